import { errorMessage as message } from '../../../common/error-message';
import { markRaw, ref, shallowRef, type Ref } from 'vue';
import { EngineClient } from '../engine/engine-client';
import { loadRequest, modelBytes } from '../engine/load-request';
import type { BackendChoice, LoadResult, ModelChanged } from '../engine/protocol';
import { api } from '../platform/api';
import { takeEarlyEngine, takeEarlyLoad } from '../start-early';
import type { useModelsStore } from './models';

/** A page's worker is replaced before its next load once it has loaded this many models, */
export const WORKER_LOADS = 8;
/** or once it has held a model whose files are larger than this. */
export const WORKER_LARGE_MODEL_BYTES = 64 * 1024 * 1024;

/**
 * The engine (the page's worker, or the desktop app's native engine process) and the model loaded
 * in it: the chosen model, variant and backend of `models`; load failures are said in `errorBanner`.
 */
export function useEngineSession(models: ReturnType<typeof useModelsStore>, errorBanner: Ref<string | null>) {
  const engine = markRaw(takeEarlyEngine() ?? new EngineClient(api.nativeEngine === true));
  const loaded = shallowRef<LoadResult | null>(null);
  const loading = ref(false);
  /** Said when the desktop app's native engine stopped: the reason; a restart is offered. */
  const nativeEngineNotice = ref<string | null>(null);

  // The engine may say after a load's answer that the model runs otherwise (its one session could not
  // run whole prompts: loaded again a session per file) or not at all; taken once the load is over.
  let change: ModelChanged | null = null;
  function applyChange(): void {
    if (!change || loading.value) return;
    const { modelId, result, message: reason } = change;
    change = null;
    loaded.value = result;
    if (!result) errorBanner.value = `Could not load model "${modelId}": ${reason ?? 'unknown error'}`;
  }
  engine.onModelChanged((c) => {
    change = c;
    applyChange();
  });

  // The page's worker keeps the high-water mark of all it ran (its WebAssembly memory never shrinks,
  // and its other memory levels off only after dozens of models): it is replaced before a load once it
  // has held a large model or loaded several (issue 18). Not while anything runs in it.
  let workerLoads = 0;
  let workerHeldLarge = false;
  async function renewWorkerIfDue(bytes: number): Promise<void> {
    if ((workerLoads >= WORKER_LOADS || workerHeldLarge) && (await engine.renewWorker())) {
      workerLoads = 0;
      workerHeldLarge = false;
    }
    workerLoads++;
    workerHeldLarge ||= bytes > WORKER_LARGE_MODEL_BYTES;
  }

  async function loadModel(backend: BackendChoice = models.backendChoice): Promise<void> {
    const info = models.model;
    if (!info) {
      errorBanner.value = `Model "${models.modelId}" is not available.`;
      return;
    }
    const request = loadRequest(info, models.variant, backend);
    loading.value = true;
    loaded.value = null;
    try {
      await renewWorkerIfDue(modelBytes(info, models.variant));
      // The page's first load is usually the one started before the page was built (start-early.ts).
      loaded.value = await ((await takeEarlyLoad(request)) ?? engine.call('load', request).result);
      errorBanner.value = null;
    } catch (cause) {
      errorBanner.value = `Could not load model "${info.id}": ${message(cause)}`;
    } finally {
      loading.value = false;
      applyChange();
    }
  }

  // The native engine's process died: what it was running fails with the reason, and the model is
  // loaded again in the page (WebGPU or WASM) so work can go on; a restart brings it back.
  api.engine?.onNativeExit((reason) => {
    const wasNative = engine.nativeStopped(reason);
    nativeEngineNotice.value = `${reason}. Models run in the page (WebGPU or WASM) until it is restarted.`;
    if (wasNative && !loading.value) void loadModel(models.backendChoice === 'native' ? 'auto' : models.backendChoice);
  });
  engine.onNativeReady = () => {
    nativeEngineNotice.value = null;
    if (models.backendChoice === 'auto' || models.backendChoice === 'native') void loadModel();
  };

  /** Starts the native engine's process again; its port arrives as the first one did (`onNativeReady`). */
  async function restartNativeEngine(): Promise<void> {
    try {
      await api.engine?.restartNative();
    } catch (cause) {
      nativeEngineNotice.value = `The native engine could not be restarted: ${message(cause)}`;
    }
  }

  return { engine, loaded, loading, loadModel, nativeEngineNotice, restartNativeEngine };
}
