/// <reference lib="webworker" />
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { WorkerRequest, WorkerResponse } from '../../../engine/protocol';

declare const self: DedicatedWorkerGlobalScope;

/**
 * The engine worker's entry, kept small so that it runs at once: before the engine's own code (the
 * tokenizers, the graph editing, ONNX Runtime's JavaScript) is fetched and built, it asks whether
 * WebGPU is there and, where it is not, starts compiling ONNX Runtime's 14 MB WebAssembly by
 * streaming. The page is meanwhile still building itself and listing its models, so by the time a
 * model is asked for the runtime is (nearly) compiled. Requests that come before the engine's code
 * has started wait for it, in order.
 */
const early: MessageEvent<WorkerRequest>[] = [];
self.onmessage = (event: MessageEvent<WorkerRequest>) => void early.push(event);

async function askWebgpu(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser offers no WebGPU';
  try {
    return (await gpu.requestAdapter()) ? null : 'no WebGPU adapter is available';
  } catch (cause) {
    return `WebGPU adapter request failed (${cause instanceof Error ? cause.message : String(cause)})`;
  }
}

const webgpu = askWebgpu();
const runtimeUrl = new URL(wasmUrl, self.location.href).href;
const compiled: Promise<WebAssembly.Module | null> = webgpu
  .then((missing) => (missing === null ? null : WebAssembly.compileStreaming(fetch(runtimeUrl))))
  .catch(() => null);

/**
 * ONNX Runtime instantiates its WebAssembly itself, by `WebAssembly.instantiateStreaming` of its URL
 * (it offers no way to hand it a compiled module). For that one URL the module compiled above is used
 * (its response is dropped unread), so the runtime is never compiled twice. Any other module, and
 * this one when compiling it early failed, goes to the browser's own function.
 */
const instantiateStreaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
WebAssembly.instantiateStreaming = async (source, imports) => {
  const response = await source;
  const module = response.url === runtimeUrl ? await compiled : null;
  if (!module) return instantiateStreaming(response, imports);
  void response.body?.cancel().catch(() => undefined);
  return { module, instance: await WebAssembly.instantiate(module, imports) };
};

import('./engine-host').then(
  ({ startEngineHost }) => startEngineHost(() => webgpu, early),
  (cause: unknown) => {
    // Without its code the engine answers every request with the reason, rather than never.
    const reason = `the engine's code could not be loaded (${cause instanceof Error ? cause.message : String(cause)})`;
    const refuse = (event: MessageEvent<WorkerRequest>): void => {
      if (event.data.type !== 'cancel') self.postMessage({ runId: event.data.runId, type: 'error', message: reason } satisfies WorkerResponse);
    };
    self.onmessage = refuse;
    for (const event of early.splice(0)) refuse(event);
  },
);
