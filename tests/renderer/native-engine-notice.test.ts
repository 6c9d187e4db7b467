import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NtlApi } from '../../src/common/api';
import type { WorkerRequest, WorkerResponse } from '../../src/renderer/src/engine/protocol';
import { FakeWorker, until } from './fake-worker';

const page = new EventTarget();
const natives: { requests: WorkerRequest[]; port: MessagePort }[] = [];

/** The preload handing the page a native engine's port (a window message). */
function handOverNativePort(): void {
  const { port1, port2 } = new MessageChannel();
  const requests: WorkerRequest[] = [];
  port2.onmessage = (event: MessageEvent<WorkerRequest>) => requests.push(event.data);
  natives.push({ requests, port: port2 });
  page.dispatchEvent(Object.assign(new Event('message'), { data: { ntl: 'native-engine-port' }, ports: [port1], source: page }));
}

const model = {
  id: 'seed-world', name: 'Seed world', source: 'bundled', description: '', defaultPrompt: null, modelType: 'gpt2', layers: 3, heads: 4, kvHeads: 4, hidden: 128,
  vocab: 1024, context: 128, parameters: 1, bytes: 1, sha256: 'x', opset: 17, precision: 'float32', graphInputs: ['input_ids'], views: [],
  files: { config: 'config.json', tokenizer: 'tokenizer.json', tokenizerConfig: null, onnx: 'onnx/model.onnx', onnxWithPast: null, onnxData: [], card: null },
  variant: 'fp32',
  variants: [],
};
const loadResult = (backend: string): unknown => ({ modelId: 'seed-world', backend, threads: 1, backendNote: null });

let onNativeExit: (reason: string) => void = () => undefined;
const restartNative = vi.fn(async () => {
  handOverNativePort();
});
const fakeApi = {
  transport: 'ipc',
  nativeEngine: true,
  models: { list: async () => ({ models: [model], problems: [] }) },
  engine: {
    onNativeExit: (listener: (reason: string) => void) => {
      onNativeExit = listener;
    },
    restartNative,
  },
} as unknown as NtlApi;

vi.mock('../../src/renderer/src/platform/api', () => ({ api: fakeApi }));

describe('the notebook when the desktop app’s native engine process dies', () => {
  beforeEach(() => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('window', page);
    vi.stubGlobal('document', { baseURI: 'app://local/index.html' });
    setActivePinia(createPinia());
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('says why, loads the model again in the page, and offers a restart that brings the native engine back', async () => {
    const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
    const store = useNotebookStore();
    handOverNativePort();
    const init = store.init();
    const first = natives[0];
    if (!first) throw new Error('no port');
    await until(() => first.requests.length === 1, 'the native load');
    first.port.postMessage({ runId: first.requests[0]?.runId, type: 'result', result: loadResult('native') });
    await init;
    expect(store.loaded?.backend).toBe('native');

    onNativeExit('The native engine stopped unexpectedly (exit code 134)');
    expect(store.nativeEngineNotice).toMatch(/^The native engine stopped unexpectedly \(exit code 134\)\. Models run in the page/);
    const worker = FakeWorker.last;
    if (!worker) throw new Error('no worker');
    await until(() => worker.posted.some((m) => m.type === 'load'), 'the load in the page');
    const load = worker.posted.find((m) => m.type === 'load');
    expect(load).toMatchObject({ backend: 'auto', model: { config: 'app://local/models/seed-world/config.json' } });
    worker.onmessage?.({ data: { runId: load?.runId ?? 0, type: 'result', result: loadResult('wasm') } as WorkerResponse });
    await until(() => store.loaded?.backend === 'wasm', 'the model in the page');

    await store.restartNativeEngine();
    expect(restartNative).toHaveBeenCalledTimes(1);
    const second = natives[1];
    if (!second) throw new Error('no second port');
    expect(store.nativeEngineNotice).toBeNull();
    await until(() => second.requests.length === 1, 'the load on the restarted engine');
    second.port.postMessage({ runId: second.requests[0]?.runId, type: 'result', result: loadResult('native') });
    await until(() => store.loaded?.backend === 'native', 'the model back on the native engine');
    for (const n of natives) n.port.close();
  });
});
