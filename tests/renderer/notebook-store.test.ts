import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NtlApi } from '../../src/common/api';
import type { WorkerRequest, WorkerResponse } from '../../src/renderer/src/engine/protocol';
import { FakeWorker, until } from './fake-worker';

const variant = (name: string, onnx: string): { name: string; onnx: string; onnxWithPast: null; onnxData: string[]; bytes: number } => ({ name, onnx, onnxWithPast: null, onnxData: [], bytes: 1 });
/** A hub folder as the registry lists it: five ONNX files of one model. */
const hub = {
  id: 'gpt2-hub', name: 'GPT-2 hub', source: 'user', description: '', defaultPrompt: null, modelType: 'gpt2', layers: 2, heads: 2, kvHeads: 2, hidden: 32,
  vocab: 320, context: 64, parameters: 1, bytes: 1, sha256: 'x', opset: 14, precision: 'float32', graphInputs: ['input_ids'], views: [],
  files: { config: 'config.json', tokenizer: 'tokenizer.json', tokenizerConfig: null, onnx: 'onnx/model.onnx', onnxWithPast: null, onnxData: [], card: null },
  variant: 'fp32',
  variants: [variant('fp32', 'onnx/model.onnx'), variant('fp16', 'onnx/model_fp16.onnx'), variant('q4', 'onnx/model_q4.onnx')],
};
const other = { ...hub, id: 'seed-world', name: 'Seed World', variants: [variant('fp32', 'onnx/model.onnx')] };

const fakeApi = { transport: 'http', nativeEngine: false, models: { list: async () => ({ models: [hub, other], problems: [] }) } } as unknown as NtlApi;
vi.mock('../../src/renderer/src/platform/api', () => ({ api: fakeApi }));

describe('the notebook store (Pinia), with the engine worker standing in', () => {
  beforeEach(() => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('window', new EventTarget());
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:5417/' });
    setActivePinia(createPinia());
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** Answers the worker's latest load and waits for the store to take it. */
  async function answerLoad(worker: FakeWorker, modelId: string, count: number): Promise<WorkerRequest & { type: 'load' }> {
    await until(() => worker.posted.filter((m) => m.type === 'load').length === count, `load ${count}`);
    const load = worker.posted.filter((m) => m.type === 'load').at(-1) as WorkerRequest & { type: 'load' };
    worker.onmessage?.({ data: { runId: load.runId, type: 'result', result: { modelId, backend: 'wasm', threads: 1, backendNote: null } } as WorkerResponse });
    return load;
  }

  it("loads the folder's first file, another variant's file when one is chosen, and the first again for another model", async () => {
    const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
    const store = useNotebookStore();
    store.modelId = 'gpt2-hub';
    const init = store.init();
    const worker = FakeWorker.last;
    if (!worker) throw new Error('no worker');
    const first = await answerLoad(worker, 'gpt2-hub', 1);
    await init;
    expect(first.model).toMatchObject({ onnx: 'http://127.0.0.1:5417/models/gpt2-hub/onnx/model.onnx', onnxFile: 'onnx/model.onnx' });

    // Results belong to the file that computed them: every finished cell goes out of date.
    store.cells.predict.status = 'done';
    const choosing = store.setVariant('fp16');
    const second = await answerLoad(worker, 'gpt2-hub', 2);
    await choosing;
    expect(second.model).toMatchObject({ onnx: 'http://127.0.0.1:5417/models/gpt2-hub/onnx/model_fp16.onnx', onnxFile: 'onnx/model_fp16.onnx' });
    expect(store.variant).toBe('fp16');
    expect(store.cells.predict.status).toBe('stale');

    // A variant the folder does not have, or the one in use, loads nothing.
    await store.setVariant('bnb4');
    await store.setVariant('fp16');
    expect(worker.posted.filter((m) => m.type === 'load')).toHaveLength(2);

    // Another model starts from its own first file.
    const switching = store.setModel('seed-world');
    const third = await answerLoad(worker, 'seed-world', 3);
    await switching;
    expect(third.model).toMatchObject({ id: 'seed-world', onnxFile: 'onnx/model.onnx' });
    expect(store.variant).toBeNull();
  });

  it('marks out of date only what a change reaches: the prompt every cell, the sampling settings only Sample', async () => {
    const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
    const store = useNotebookStore();
    for (const kind of ['tokenize', 'embed', 'attend', 'predict', 'sample'] as const) store.cells[kind].status = 'done';
    expect(store.setParams('sample', { seed: 7 })).toBeNull();
    expect(Object.fromEntries(Object.entries(store.cells).map(([k, c]) => [k, c.status]))).toEqual({ tokenize: 'done', embed: 'done', attend: 'done', predict: 'done', sample: 'stale' });
    expect(store.setParams('sample', { seed: -5 })).toMatch(/>=\s*0|at least 0|too small/i);
    store.setPrompt('The cat sat on the');
    expect(Object.values(store.cells).every((c) => c.status === 'stale')).toBe(true);
  });
});
