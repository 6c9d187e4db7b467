import { threadsFor } from '../../../engine/threads';
import { DEFAULT_MODEL_ID, modelFileUrl, type PageModelInfo } from '../../../common/model-info';
import type { BackendChoice, ModelUrls, WorkerRequest } from './protocol';

/** What the page asks the engine to load: a model's files, the backend and the thread count. */
export type LoadRequest = Omit<Extract<WorkerRequest, { type: 'load' }>, 'runId' | 'type'>;

function absoluteUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}

/** The URLs of a model's files, in the variant chosen (fp16, quantized, ...: one of the folder's ONNX files), else its first. */
export function modelUrls(model: PageModelInfo, variant: string | null): ModelUrls {
  const files = model.variants.find((v) => v.name === variant) ?? model.files;
  return {
    id: model.id,
    format: model.format,
    config: absoluteUrl(modelFileUrl(model.id, model.files.config)),
    tokenizer: absoluteUrl(modelFileUrl(model.id, model.files.tokenizer)),
    tokenizerConfig: model.files.tokenizerConfig ? absoluteUrl(modelFileUrl(model.id, model.files.tokenizerConfig)) : null,
    onnx: absoluteUrl(modelFileUrl(model.id, files.onnx)),
    onnxWithPast: files.onnxWithPast ? absoluteUrl(modelFileUrl(model.id, files.onnxWithPast)) : null,
    onnxFile: files.onnx,
    onnxWithPastFile: files.onnxWithPast,
    onnxData: files.onnxData.map((file) => ({ path: file.split('/').pop() ?? file, url: absoluteUrl(modelFileUrl(model.id, file)) })),
  };
}

/** Suggested wasm threads for a model of `bytes`: one for small models, else all cores up to 4 where the page is cross-origin isolated. */
function wasmThreads(bytes: number): number {
  return globalThis.crossOriginIsolated ? threadsFor(bytes, navigator.hardwareConcurrency || 1) : 1;
}

/** The bytes of `model`'s files in `variant` (null: the folder's first). */
export function modelBytes(model: PageModelInfo, variant: string | null): number {
  return model.variants.find((v) => v.name === variant)?.bytes ?? model.bytes;
}

/** The load of `model` in `variant` (null: the folder's first) on `backend`. */
export function loadRequest(model: PageModelInfo, variant: string | null, backend: BackendChoice): LoadRequest {
  const bytes = modelBytes(model, variant);
  return { model: modelUrls(model, variant), backend, threads: wasmThreads(bytes) };
}

/** The model a page opens on before any notebook names one: the default where it is listed, else the first. */
export function startingModel(models: readonly PageModelInfo[]): PageModelInfo | null {
  return models.find((m) => m.id === DEFAULT_MODEL_ID) ?? models[0] ?? null;
}

/** Whether two loads ask for the same thing (the same files, backend and threads). */
export function isSameLoad(a: LoadRequest, b: LoadRequest): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
