import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CompareDoc } from '../../src/common/notebook-format';
import { until } from './fake-worker';
import { freshPage, lastWorker, loadResult, tokenized } from './store-fixtures';

vi.mock('../../src/renderer/src/platform/api', async () => ({ api: (await import('./store-fixtures')).fakeApi }));

async function stores() {
  const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
  const { useCompareStore } = await import('../../src/renderer/src/stores/compare');
  const notebook = useNotebookStore();
  return { notebook, compare: useCompareStore() };
}

const setupOf = (compare: { maxTokens: number; columns: { name: string; seed: number; strategy: unknown }[] }): unknown => ({
  maxTokens: compare.maxTokens,
  columns: compare.columns.map((c) => ({ name: c.name, seed: c.seed, strategy: c.strategy })),
});

describe('the compare store (Pinia): its set-up saved with the notebook, its runs under the notebook\'s run guard', () => {
  beforeEach(freshPage);
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('tells the notebook when the columns change, and only then', async () => {
    const { notebook, compare } = await stores();
    notebook.markSaved();
    expect(notebook.compareDoc).toBeNull();
    // The same values again change nothing: a new notebook stays clean and saves no set-up.
    expect(compare.setColumn(compare.columns[0]?.key ?? -1, { name: 'A', seed: 42 })).toBeNull();
    expect(compare.setMaxTokens(8)).toBeNull();
    expect(notebook.compareDoc).toBeNull();
    expect(notebook.isDirty).toBe(false);

    expect(compare.addColumn()).toBeNull();
    expect(notebook.compareDoc).toEqual(setupOf(compare));
    expect(notebook.compareDoc?.columns.map((c) => c.name)).toEqual(['A', 'B', 'C']);
    expect(notebook.isDirty).toBe(true);
    const revision = notebook.revision;
    expect(compare.setColumn(compare.columns[2]?.key ?? -1, { strategy: { strategy: 'top-p', temperature: 0.9, topP: 0.5 } })).toBeNull();
    expect(notebook.compareDoc?.columns[2]?.strategy).toEqual({ strategy: 'top-p', temperature: 0.9, topP: 0.5 });
    expect(notebook.revision).toBeGreaterThan(revision);
    // A refused change leaves the saved set-up as it was.
    const before = JSON.stringify(notebook.compareDoc);
    expect(compare.setColumn(compare.columns[0]?.key ?? -1, { seed: -1 })).not.toBeNull();
    expect(compare.setMaxTokens(0)).not.toBeNull();
    expect(JSON.stringify(notebook.compareDoc)).toBe(before);
    expect(compare.removeColumn(compare.columns[2]?.key ?? -1)).toBeNull();
    expect(compare.setMaxTokens(12)).toBeNull();
    expect(notebook.compareDoc).toEqual({ maxTokens: 12, columns: [{ name: 'A', seed: 42, strategy: { strategy: 'greedy' } }, { name: 'B', seed: 42, strategy: { strategy: 'top-k', temperature: 0.8, topK: 5 } }] });
  });

  it('takes its columns from an opened notebook and saves them back unchanged', async () => {
    const { notebook, compare } = await stores();
    const setup: CompareDoc = { maxTokens: 5, columns: [{ name: 'X', seed: 1, strategy: { strategy: 'temperature', temperature: 0.5 } }, { name: 'Y', seed: 2, strategy: { strategy: 'greedy' } }, { name: 'Z', seed: 3, strategy: { strategy: 'top-k', temperature: 1, topK: 3 } }] };
    const doc = { ...notebook.toDoc(), compare: setup };
    await notebook.applyDoc(doc);
    await until(() => compare.columns.length === 3, 'the opened columns');
    expect(setupOf(compare)).toEqual(setup);
    expect(notebook.isDirty).toBe(false);
    expect(notebook.toDoc().compare).toEqual(setup);
  });

  it('runs holding the notebook\'s run guard: the cells wait, and it waits for them', async () => {
    const { notebook, compare } = await stores();
    const init = notebook.init();
    const worker = lastWorker();
    await worker.reply('load', loadResult('gpt2-hub'));
    await init;
    expect(compare.setMaxTokens(1)).toBeNull();
    const running = compare.run();
    await worker.reply('tokenize', tokenized('The', ' sun'));
    await until(() => worker.pending('compare-steps') !== undefined, 'a compare step');
    expect(notebook.running).toBe(true);
    expect(compare.status).toBe('running');
    await notebook.runAll();
    expect(worker.posted.filter((m) => m.type === 'tokenize')).toHaveLength(1);
    const step = worker.pending('compare-steps');
    expect(step?.items.map((i) => i.state.ids)).toEqual([[10, 11], [10, 11]]);
    const detail = (id: number) => ({ id, token: ` w${id}`, display: `w${id}`, prob: 0.5, rank: 1, kept: 2, entropy: 1, ms: 2, alternatives: [] });
    await worker.reply('compare-steps', [0, 1].map((i) => ({ state: { ids: [10, 11, i], steps: [detail(i)], rngState: 1, stopReason: null }, detail: detail(i) })));
    await running;
    expect(compare.status).toBe('done');
    expect(compare.columns.map((c) => c.state?.steps.map((s) => s.id))).toEqual([[0], [1]]);
    expect(notebook.running).toBe(false);
    // A prompt change makes the comparison out of date.
    notebook.setPrompt('Another prompt');
    await until(() => compare.status === 'stale', 'the comparison to go out of date');
  });
});
