import type { ModelInfo } from '../common/model-info';
import { OnnxModel, type BackendName, type OrtModule } from '../engine/session';
import { verifyModel, type VerifyReport } from '../engine/verify-model';
import { readModelFiles } from './model-folder-files';
import { loadNativeOrt, loadOrt } from './ort-runtime';

/**
 * Loads a model folder in a real ONNX Runtime session (onnxruntime-node, or onnxruntime-web's wasm
 * where the native build does not load) and runs it once as the notebook would: a test prompt
 * through predict and attention, then two generation steps on its key/value cache. Messages name the
 * file under `shownAs` (the folder the user chose). Throws when anything fails.
 */
export async function verifyModelFolder(info: ModelInfo, shownAs: string): Promise<VerifyReport> {
  let ort: OrtModule;
  let backend: BackendName = 'native';
  try {
    ort = await loadNativeOrt();
  } catch {
    ort = await loadOrt('wasm');
    backend = 'wasm';
  }
  const files = { ...(await readModelFiles(info)), id: shownAs };
  const model = await OnnxModel.load(ort, files, { backend, threads: 1 });
  try {
    return await verifyModel(model, `${shownAs}/${info.files.onnx}`);
  } finally {
    await model.release();
  }
}
