import { PageModelList } from '../../common/model-info';
import { EngineClient } from './engine/engine-client';
import { isSameLoad, loadRequest, startingModel, type LoadRequest } from './engine/load-request';
import type { LoadResult } from './engine/protocol';
import { takeStarted } from './start-engine';

/**
 * What the page starts before it builds itself: the engine's worker (which at once imports ONNX
 * Runtime and compiles its WebAssembly), the request for the list of models and, once that answers,
 * the load of the model the page opens on, so that the model loads while the page is being built.
 * The stores take them over when they are created; a store created without them (tests) makes its own.
 */
let engine: EngineClient | null = null;
let modelList: Promise<PageModelList> | null = null;
let earlyLoad: Promise<{ request: LoadRequest; result: Promise<LoadResult> } | null> | null = null;

export function startEarly(): void {
  const first = takeStarted();
  const started = (engine ??= first?.engine ?? new EngineClient(window.ntl?.nativeEngine === true));
  // The desktop app's list comes checked through its preload; the served one is checked here, as api.ts
  // does. Not through api.ts where the page's first task asked for it: api.ts's schemas (notebooks,
  // served models, ...) are built with the page's own modules, not in this task (issue 18).
  modelList ??= first ? first.modelList.then((list) => (window.ntl ? (list as PageModelList) : PageModelList.parse(list))) : import('./platform/api').then(({ api }) => api.models.list());
  // Said where it is asked for (the store's first listing); not an unhandled rejection before then.
  modelList.catch(() => undefined);
  earlyLoad ??= modelList.then(
    (list) => {
      const model = startingModel(list.models);
      if (!model) return null;
      const request = loadRequest(model, null, 'auto');
      const { result } = started.call('load', request);
      // Said where the notebook takes it over (its first load); else superseded by the load it asks for.
      result.catch(() => undefined);
      return { request, result };
    },
    () => null,
  );
}

/** The engine started early, once; null when none was or it was taken already. */
export function takeEarlyEngine(): EngineClient | null {
  const taken = engine;
  engine = null;
  return taken;
}

/** The list of models asked for early, once; null when none was or it was taken already. */
export function takeEarlyModelList(): Promise<PageModelList> | null {
  const taken = modelList;
  modelList = null;
  return taken;
}

/**
 * The answer of the load started early when `request` asks for the same model, backend and threads
 * (once); null otherwise, and then that early load is only superseded: the engine runs loads in order.
 */
export async function takeEarlyLoad(request: LoadRequest): Promise<Promise<LoadResult> | null> {
  const taken = earlyLoad;
  earlyLoad = null;
  const early = await taken;
  return early && isSameLoad(early.request, request) ? early.result : null;
}
