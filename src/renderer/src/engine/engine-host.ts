/// <reference lib="webworker" />
// The engine worker's work (see engine.worker.ts, which starts it).
import { errorMessage } from '../../../common/error-message';
import type * as Ort from 'onnxruntime-web';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { EngineService, type BackendAttempt, type EngineHost } from '../../../engine/engine-service';
import type { BackendChoice, ModelUrls, WorkerRequest, WorkerResponse } from '../../../engine/protocol';
import type { ModelFiles } from '../../../engine/session';
import { readModelFolder, type FolderSources } from '../../../engine/model-files';

declare const self: DedicatedWorkerGlobalScope;

/** The ONNX Runtime builds, each loaded on first use. */
const builds: { wasm: typeof Ort | null; webgpu: typeof Ort | null } = { wasm: null, webgpu: null };

/**
 * onnxruntime-web for a backend: WebAssembly alone (a 14 MB runtime to compile) or with WebGPU (the
 * 28 MB JSEP runtime), so a machine without WebGPU never compiles the larger one. Imported lazily, so
 * their wasm threads never re-run this module (see toolchain notes).
 */
/**
 * `env.logLevel` sets the runtime's default, but onnxruntime-web gives every session a log severity
 * of its own, 2 (warnings) unless the options name one; its log goes to stderr, which the page shows
 * as console errors (a quantized model's unused initializers: "[W:onnxruntime:…] Removing initializer").
 * Sessions created in the page default to 3 (errors only); options that name a level keep it.
 */
function quietSessionLog(ort: typeof Ort): void {
  const sessions: object = ort.InferenceSession;
  const create: unknown = Reflect.get(sessions, 'create');
  if (typeof create !== 'function') return;
  Reflect.set(sessions, 'create', (...args: unknown[]): unknown => {
    const last = args.at(-1);
    const isOptions = typeof last === 'object' && last !== null && !ArrayBuffer.isView(last) && !(last instanceof ArrayBuffer);
    const options = isOptions ? { logSeverityLevel: 3, ...last } : { logSeverityLevel: 3 };
    return Reflect.apply(create, sessions, isOptions ? [...args.slice(0, -1), options] : [...args, options]);
  });
}

async function loadOrt(backend: 'wasm' | 'webgpu'): Promise<typeof Ort> {
  let ort = builds[backend];
  if (!ort) {
    ort = backend === 'wasm' ? ((await import('onnxruntime-web/wasm')) as typeof Ort) : await import('onnxruntime-web');
    ort.env.wasm.wasmPaths = { wasm: new URL(backend === 'wasm' ? wasmUrl : jsepWasmUrl, self.location.href).href };
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    quietSessionLog(ort);
    builds[backend] = ort;
  }
  return ort;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text().catch(() => response.statusText)}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchJson(url: string, file: string): Promise<unknown> {
  const bytes = await fetchBytes(url);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new Error(`${file}: malformed JSON (${errorMessage(cause)})`);
  }
}

/**
 * The page's engine: model files fetched by URL, onnxruntime-web on WebGPU when there is an adapter,
 * else WebAssembly. `webgpuMissing` is the worker's one answer to whether WebGPU can be used (null: it
 * can); `early` the requests that came while this module was being fetched.
 */
export function startEngineHost(webgpuMissing: () => Promise<string | null>, early: readonly MessageEvent<WorkerRequest>[]): void {
  const host: EngineHost = {
    readModel(urls: ModelUrls): Promise<ModelFiles> {
      const sources: FolderSources<string> = { ...urls, onnxData: urls.onnxData.map((d) => ({ path: d.path, source: d.url })) };
      return readModelFolder(sources, { json: (url, label) => fetchJson(url, label), bytes: (url) => fetchBytes(url) });
    },
    async backends(choice: BackendChoice, threads: number) {
      const wasm: BackendAttempt = { backend: 'wasm', ort: () => loadOrt('wasm'), threads };
      if (choice === 'wasm') return { attempts: [wasm], note: null };
      const native = choice === 'native' ? 'the native engine runs only in the desktop app; ' : '';
      const missing = await webgpuMissing();
      if (missing !== null) return { attempts: [wasm], note: `${native ? `Native not used: ${native}` : ''}WebGPU not used: ${missing}; running on WASM.` };
      return { attempts: [{ backend: 'webgpu', ort: () => loadOrt('webgpu'), threads }, wasm], note: native ? `Native not used: ${native}running on WebGPU.` : null };
    },
    now: () => performance.now(),
  };
  // Where WebGPU is missing, WebAssembly is what the first load uses: its JavaScript is imported now.
  void webgpuMissing().then((missing) => (missing === null ? null : loadOrt('wasm'))).catch(() => undefined);

  const service = new EngineService(host);
  const submit = (event: MessageEvent<WorkerRequest>): void => {
    void service.submit(event.data, (message: WorkerResponse, transfer = []) => self.postMessage(message, transfer as Transferable[]));
  };
  self.onmessage = submit;
  for (const event of early) submit(event);
}
