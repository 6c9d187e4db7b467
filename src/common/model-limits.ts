/**
 * How much model the app can load, checked before any byte is read so that a model that cannot fit
 * is refused with a reason instead of crashing the engine.
 *
 * ONNX Runtime Web's wasm build has a 32-bit address space (4 GiB). While a session is created it
 * holds the model file's bytes and its own copy of the weights at once, plus working memory, so the
 * weights may take at most half of it, less a margin (which also keeps a single ONNX file under
 * protobuf's 2 GiB message limit).
 */
export const WASM_ADDRESS_SPACE_BYTES = 4 * 1024 ** 3;
export const WORKING_MARGIN_BYTES = 256 * 1024 ** 2;
export const MAX_MODEL_BYTES = (WASM_ADDRESS_SPACE_BYTES - WORKING_MARGIN_BYTES) / 2;

/**
 * A model's JSON files (config, tokenizer, card) above this size are refused unread. The largest
 * tokenizer.json files in use (Gemma's 262,144 tokens) are about 33 MB.
 */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 ** 2;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** Why a model of `weightBytes` (the ONNX file plus its external data) cannot be loaded, or null. */
export function modelSizeProblem(onnxBytes: number, externalBytes: number): string | null {
  const total = onnxBytes + externalBytes;
  if (total > MAX_MODEL_BYTES) {
    return `${formatBytes(total)} of weights is more than ONNX Runtime Web can load: its wasm backend addresses ${formatBytes(WASM_ADDRESS_SPACE_BYTES)} and holds the weights twice while the session is created, so models up to ${formatBytes(MAX_MODEL_BYTES)} fit`;
  }
  return null;
}
