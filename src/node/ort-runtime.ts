import { errorMessage } from '../common/error-message';
import type { BackendName, OrtModule } from '../engine/session';

/**
 * The ONNX Runtime build for a backend in Node: onnxruntime-web for wasm, onnxruntime-node for
 * native. Both are imported only when asked for, so a machine where onnxruntime-node's binary does
 * not load still runs everything on wasm, and says why native failed.
 */
export async function loadOrt(backend: BackendName): Promise<OrtModule> {
  if (backend === 'webgpu') throw new Error('the webgpu backend is not available in Node (there is no WebGPU here); use --backend wasm or native');
  if (backend === 'wasm') {
    const ort = await import('onnxruntime-web');
    ort.env.logLevel = 'error';
    return ort;
  }
  try {
    return await loadNativeOrt();
  } catch (cause) {
    throw new Error(`${errorMessage(cause)}; use --backend wasm`);
  }
}

/**
 * onnxruntime-node, loaded on first use (the command line's native backend and the desktop app's
 * native engine); where its binary does not load, the error names the platform and the cause.
 */
export async function loadNativeOrt(): Promise<OrtModule> {
  try {
    const ort = await import('onnxruntime-node');
    ort.env.logLevel = 'error';
    return ort;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new Error(`the native backend is not available: onnxruntime-node could not be loaded on ${process.platform}-${process.arch} (${message})`);
  }
}
