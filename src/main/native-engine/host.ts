import { EngineService, type EngineHost } from '../../engine/engine-service';
import type { WorkerRequest, WorkerResponse } from '../../engine/protocol';
import { ModelRegistry, type ModelRoot } from '../../node/model-registry';
import { readModelFiles } from '../../node/model-folder-files';
import { loadNativeOrt } from '../../node/ort-runtime';

/**
 * The desktop app's native engine: the same service as the page's worker, on onnxruntime-node's CPU
 * provider, reading model files straight from the models folders. Only models the registry lists
 * (by id) can be read: the page cannot name a path.
 */
export function nativeEngineHost(roots: readonly ModelRoot[]): EngineHost {
  const registry = new ModelRegistry([...roots]);
  return {
    async readModel(urls) {
      const info = (await registry.list()).models.find((m) => m.id === urls.id);
      if (!info) throw new Error(`${urls.id}: no model of that id in the models folders`);
      if (info.format !== 'onnx') throw new Error(`${urls.id} is a GGUF model: it runs on llama.cpp, not ONNX Runtime`);
      // onnxruntime-node reads the weights from the files: the graphs are read without them.
      return readModelFiles(info, { weightsOnDisk: true });
    },
    async loadEngineModel(urls, threads) {
      const list = await registry.list();
      const info = list.models.find((m) => m.id === urls.id);
      if (!info) {
        // A registered file moved or deleted since: the registry's problem says so.
        const problem = list.problems.find((p) => p.message.startsWith(`${urls.id}: `));
        throw new Error(problem?.message ?? `${urls.id}: no model of that id in the models folders`);
      }
      if (info.format !== 'gguf' || !info.gguf) throw new Error(`${urls.id} is not a GGUF model`);
      // node-llama-cpp is loaded on the first GGUF model only: an ONNX-only session never pays for it.
      const { GgufModel } = await import('../../node/gguf-model');
      const model = await GgufModel.load(info.path, { threads, id: info.id });
      return { model, file: info.gguf.file, precision: info.precision, note: `GGUF on llama.cpp (node-llama-cpp, CPU): ${info.gguf.file}` };
    },
    async backends(choice, threads) {
      const note = choice === 'webgpu' ? 'WebGPU is not offered by the native engine; running on native CPU.' : null;
      return { attempts: [{ backend: 'native', ort: loadNativeOrt, threads }], note };
    },
    now: () => performance.now(),
  };
}

/** A message port as the native engine uses it: Electron's MessagePortMain or Node's worker_threads port. */
export interface EnginePort {
  onMessage(listener: (request: WorkerRequest) => void): void;
  post(message: WorkerResponse): void;
}

/** Serves the worker protocol on `port` with a native engine over the given models folders. */
export function serveNativeEngine(port: EnginePort, roots: readonly ModelRoot[]): EngineService {
  const service = new EngineService(nativeEngineHost(roots));
  port.onMessage((request) => void service.submit(request, (message) => port.post(message)));
  return service;
}
