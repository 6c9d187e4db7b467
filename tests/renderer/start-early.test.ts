import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { until } from './fake-worker';
import { freshPage, lastWorker, loadResult } from './store-fixtures';

vi.mock('../../src/renderer/src/platform/api', async () => ({ api: (await import('./store-fixtures')).fakeApi }));

/** The page as main.ts starts it: the engine, the model list and the first load before the stores exist. */
async function startedEarly() {
  const { startEarly } = await import('../../src/renderer/src/start-early');
  startEarly();
  const worker = lastWorker();
  await until(() => worker.pending('load') !== undefined, 'the early load');
  const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
  const { useModelsStore } = await import('../../src/renderer/src/stores/models');
  return { worker, store: useNotebookStore(), models: useModelsStore() };
}

describe('the start before the page is built (start-early.ts)', () => {
  beforeEach(() => {
    vi.resetModules();
    freshPage();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('loads the default model once the list answers, and the notebook takes that load over instead of asking again', async () => {
    const { worker, store } = await startedEarly();
    expect(worker.pending('load')).toMatchObject({ model: { id: 'seed-world', onnx: 'http://127.0.0.1:5417/models/seed-world/onnx/model.onnx' }, backend: 'auto', threads: 1 });
    const init = store.init();
    await worker.reply('load', loadResult('seed-world'));
    await init;
    expect(store.loaded?.modelId).toBe('seed-world');
    expect(worker.posted.filter((m) => m.type === 'load')).toHaveLength(1);
    expect(store.loading).toBe(false);
  });

  it('loads the model the notebook asks for when it is another one, after the early load', async () => {
    const { worker, store, models } = await startedEarly();
    models.modelId = 'gpt2-hub';
    const init = store.init();
    await worker.reply('load', loadResult('seed-world'));
    const second = await worker.reply('load', loadResult('gpt2-hub'));
    await init;
    expect(second.model.id).toBe('gpt2-hub');
    expect(store.loaded?.modelId).toBe('gpt2-hub');
  });

  it('says why when the early load fails, as any first load', async () => {
    const { worker, store } = await startedEarly();
    const init = store.init();
    await worker.reply('load', null, 'model.onnx: 404 not found');
    await init;
    expect(store.errorBanner).toBe('Could not load model "seed-world": model.onnx: 404 not found');
    expect(worker.posted.filter((m) => m.type === 'load')).toHaveLength(1);
  });

  it("checks the served list before anything uses it: a list that does not fit its schema loads nothing, and the first listing says why", async () => {
    const served = { models: [{ id: 'seed-world', name: 7 }] };
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(served), { status: 200 }));
    const { startEngine } = await import('../../src/renderer/src/start-engine');
    startEngine();
    const worker = lastWorker();
    const { startEarly, takeEarlyModelList } = await import('../../src/renderer/src/start-early');
    startEarly();
    await expect(takeEarlyModelList()).rejects.toThrow(/name/);
    expect(lastWorker()).toBe(worker);
    expect(worker.posted.filter((m) => m.type === 'load')).toHaveLength(0);
  });

  it('loads the default model from the list asked for in the first task, on the worker started there', async () => {
    const { fakeApi } = await import('./store-fixtures');
    const served = await fakeApi.models.list();
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(served), { status: 200 }));
    const { startEngine } = await import('../../src/renderer/src/start-engine');
    startEngine();
    const worker = lastWorker();
    const { startEarly } = await import('../../src/renderer/src/start-early');
    startEarly();
    await until(() => worker.pending('load') !== undefined, 'the early load');
    expect(lastWorker()).toBe(worker);
    expect(worker.pending('load')).toMatchObject({ model: { id: 'seed-world' }, backend: 'auto' });
  });
});
