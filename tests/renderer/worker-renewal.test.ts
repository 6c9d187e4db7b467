import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WORKER_LARGE_MODEL_BYTES, WORKER_LOADS } from '../../src/renderer/src/stores/engine-session';
import { until, type FakeWorker } from './fake-worker';
import { freshPage, hub, lastWorker, loadedNotebook, loadResult, other } from './store-fixtures';

/** Both listed models, the hub's files as large as `hubBytes`. */
let hubBytes = 1;
vi.mock('../../src/renderer/src/platform/api', async () => {
  const { fakeApi } = await import('./store-fixtures');
  return { api: { ...fakeApi, models: { list: async () => ({ models: [{ ...hub, bytes: hubBytes, variants: hub.variants.map((v) => ({ ...v, bytes: hubBytes })) }, other], problems: [] }) } } };
});

/**
 * Issue 18: the page's worker keeps the high-water mark of everything it ran, so it is replaced before
 * a load once it has loaded WORKER_LOADS models, or held one larger than WORKER_LARGE_MODEL_BYTES.
 */
async function notebookWithWorkers() {
  const { notebook, worker: first } = await loadedNotebook(loadResult('seed-world'));
  /** Switches to `id`, answering its load in whichever worker it went to; returns that worker. */
  const switchTo = async (id: string): Promise<FakeWorker> => {
    const done = notebook.setModel(id);
    const worker = lastWorker();
    await worker.reply('load', loadResult(id));
    await done;
    return worker;
  };
  return { notebook, first, switchTo };
}

describe('the page replaces its engine worker between models', () => {
  beforeEach(freshPage);
  afterEach(() => {
    vi.unstubAllGlobals();
    hubBytes = 1;
  });

  it(`after ${WORKER_LOADS} loads of small models: the next load goes to a new worker, the old one is stopped`, async () => {
    const { first, switchTo } = await notebookWithWorkers();
    const terminate = vi.spyOn(first, 'terminate');
    for (let i = 1; i < WORKER_LOADS; i++) expect(await switchTo(i % 2 === 1 ? 'gpt2-hub' : 'seed-world')).toBe(first);
    expect(terminate).not.toHaveBeenCalled();
    const next = await switchTo(WORKER_LOADS % 2 === 1 ? 'gpt2-hub' : 'seed-world');
    expect(next).not.toBe(first);
    expect(terminate).toHaveBeenCalledOnce();
    expect(first.posted.filter((m) => m.type === 'load')).toHaveLength(WORKER_LOADS);
    expect(next.posted.map((m) => m.type)).toEqual(['load']);
  });

  it('after a large model: the next load goes to a new worker', async () => {
    hubBytes = WORKER_LARGE_MODEL_BYTES + 1;
    const { first, switchTo } = await notebookWithWorkers();
    expect(await switchTo('gpt2-hub')).toBe(first);
    const next = await switchTo('seed-world');
    expect(next).not.toBe(first);
    expect(next.posted.map((m) => m.type)).toEqual(['load']);
  });

  it('waits for the calls in flight in the old worker before replacing it', async () => {
    hubBytes = WORKER_LARGE_MODEL_BYTES + 1;
    const { notebook, first, switchTo } = await notebookWithWorkers();
    expect(await switchTo('gpt2-hub')).toBe(first);
    const neighbours = notebook.engine.call('embedding-neighbours', { id: 1, k: 5 }).result;
    const switched = notebook.setModel('seed-world');
    await new Promise((r) => setTimeout(r, 50));
    // Still the old worker, the load not yet asked for anywhere.
    expect(lastWorker()).toBe(first);
    expect(first.posted.filter((m) => m.type === 'load')).toHaveLength(2);
    await first.reply('embedding-neighbours', { id: 1, neighbours: [] });
    await neighbours;
    await until(() => lastWorker() !== first, 'a new worker');
    await lastWorker().reply('load', loadResult('seed-world'));
    await switched;
    expect(notebook.loaded?.modelId).toBe('seed-world');
  });
});
