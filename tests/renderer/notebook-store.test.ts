import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CELL_KINDS } from '../../src/common/cells';
import { parseNotebook } from '../../src/common/notebook-format';
import type { FakeWorker } from './fake-worker';
import { until } from './fake-worker';
import { forwardOf, freshPage, generated, lastWorker, loadResult, tokenized } from './store-fixtures';

vi.mock('../../src/renderer/src/platform/api', async () => ({ api: (await import('./store-fixtures')).fakeApi }));

async function stores() {
  const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
  const { useModelsStore } = await import('../../src/renderer/src/stores/models');
  return { store: useNotebookStore(), models: useModelsStore() };
}

/** A store with `modelId` listed and loaded. */
async function started(modelId = 'gpt2-hub') {
  const s = await stores();
  s.models.modelId = modelId;
  const init = s.store.init();
  const worker = lastWorker();
  await worker.reply('load', loadResult(modelId));
  await init;
  return { ...s, worker };
}

const statuses = (store: { cells: Record<string, { status: string }> }): Record<string, string> => Object.fromEntries(Object.entries(store.cells).map(([id, c]) => [id, c.status]));

/** Answers one Run all: tokenize, one forward pass, a generation. */
async function answerRunAll(worker: FakeWorker, texts = ['The', ' sun']): Promise<void> {
  await worker.reply('tokenize', tokenized(...texts));
  await worker.reply('forward', forwardOf(texts.map((_, i) => i + 10)));
  await worker.reply('generate', generated([10, 11], [' east', '.']));
}

describe('the notebook store (Pinia), with the engine worker standing in', () => {
  beforeEach(freshPage);
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("loads the folder's first file, another variant's file when one is chosen, and the first again for another model", async () => {
    const { store, models, worker } = await started();
    expect(worker.posted[0]).toMatchObject({ type: 'load', model: { onnx: 'http://127.0.0.1:5417/models/gpt2-hub/onnx/model.onnx', onnxFile: 'onnx/model.onnx' } });

    // Results belong to the file that computed them: every finished cell goes out of date.
    store.cells.predict = { status: 'done', error: null, ms: 1 };
    const choosing = store.setVariant('fp16');
    const second = await worker.reply('load', loadResult('gpt2-hub'));
    await choosing;
    expect(second.model).toMatchObject({ onnx: 'http://127.0.0.1:5417/models/gpt2-hub/onnx/model_fp16.onnx', onnxFile: 'onnx/model_fp16.onnx' });
    expect(models.variant).toBe('fp16');
    expect(store.cellState('predict').status).toBe('stale');

    // A variant the folder does not have, or the one in use, loads nothing.
    await store.setVariant('bnb4');
    await store.setVariant('fp16');
    expect(worker.posted.filter((m) => m.type === 'load')).toHaveLength(2);

    // Another model starts from its own first file, and an unchanged prompt follows the model's own.
    const switching = store.setModel('seed-world');
    const third = await worker.reply('load', loadResult('seed-world'));
    await switching;
    expect(third.model).toMatchObject({ id: 'seed-world', onnxFile: 'onnx/model.onnx' });
    expect(models.variant).toBeNull();
    expect(store.prompt).toBe('Once upon a');
  });

  it('marks out of date only what a change reaches: the prompt every cell, the sampling settings only Sample', async () => {
    const { store } = await stores();
    for (const kind of CELL_KINDS) store.cells[kind] = { status: 'done', error: null, ms: 1 };
    expect(store.setParams('sample', { seed: 7 })).toBeNull();
    expect(statuses(store)).toEqual({ tokenize: 'done', embed: 'done', attend: 'done', predict: 'done', sample: 'stale' });
    expect(store.setParams('sample', { seed: -5 })).toMatch(/>=\s*0|at least 0|too small/i);
    store.setPrompt('The cat sat on the');
    expect(Object.values(store.cells).every((c) => c.status === 'stale')).toBe(true);
  });

  it('runs every cell in order through the engine, and saves what each computed under its cell id', async () => {
    const { store, worker } = await started();
    const running = store.runAll();
    await until(() => store.running, 'the run to start');
    await answerRunAll(worker);
    await running;
    expect(statuses(store)).toEqual({ tokenize: 'done', embed: 'done', attend: 'done', predict: 'done', sample: 'done' });
    expect(worker.posted.map((m) => m.type)).toEqual(['load', 'tokenize', 'forward', 'generate']);
    expect(worker.pending('generate')).toBeUndefined();
    expect(store.running).toBe(false);
    const doc = store.toDoc();
    expect(doc.results?.predict?.data).toMatchObject({ summary: 'top-1 “␣east” at 75.0%' });
    expect(doc.results?.sample?.data).toMatchObject({ text: ' east.' });
    expect(doc.backend).toBe('wasm');
  });

  it('a view cell keeps what it shows while it runs again, labelled with the tokens its pass read, until its own run ends', async () => {
    const { store, worker } = await started();
    let running = store.runAll();
    await answerRunAll(worker);
    await running;
    const first = store.forwardFor('embed');
    expect(first?.ids).toEqual([10, 11]);
    expect(store.piecesFor('attend').map((p) => p.text)).toEqual(['The', ' sun']);

    store.setPrompt('A new prompt');
    expect(store.forwardFor('predict')).toBe(first);
    running = store.runAll();
    await worker.reply('tokenize', tokenized('A', ' new', ' prompt'));
    await until(() => store.cellState('embed').status === 'running', 'Embed to run');
    // The new tokens are Tokenize's; the views still show the last pass, with its own two tokens.
    expect(store.tokens?.pieces).toHaveLength(3);
    for (const kind of ['embed', 'attend', 'predict'] as const) {
      expect(store.forwardFor(kind)).toBe(first);
      expect(store.piecesFor(kind).map((p) => p.text)).toEqual(['The', ' sun']);
    }
    await worker.reply('forward', forwardOf([10, 11, 12]));
    await worker.reply('generate', generated([10, 11, 12], [' east']));
    await running;
    for (const kind of ['embed', 'attend', 'predict'] as const) {
      expect(store.forwardFor(kind)?.ids).toEqual([10, 11, 12]);
      expect(store.piecesFor(kind).map((p) => p.text)).toEqual(['A', ' new', ' prompt']);
    }

    // A failed pass shows nothing rather than the pass before it.
    store.setPrompt('Fails');
    running = store.runAll();
    await worker.reply('tokenize', tokenized('Fails'));
    await worker.reply('forward', null, 'the session broke');
    await running;
    expect(store.cellState('embed').status).toBe('error');
    expect(store.forwardFor('embed')).toBeNull();
    expect(store.piecesFor('embed')).toEqual([]);
  });

  it('Run all asks for the forward pass and the generation as soon as the tokens are known, and cancels the generation when a cell before it fails', async () => {
    const { store, worker } = await started();
    let running = store.runAll();
    await worker.reply('tokenize', tokenized('The', ' sun'));
    // Both asked before either is answered: the engine goes from one to the next without the window.
    await until(() => worker.pending('generate') !== undefined, 'the generation to be asked for');
    expect(worker.pending('forward')).toMatchObject({ ids: [10, 11] });
    expect(store.cellState('sample').status).not.toBe('running');
    await worker.reply('forward', forwardOf([10, 11]));
    await worker.reply('generate', generated([10, 11], [' east']));
    await running;
    expect(worker.posted.map((m) => m.type)).toEqual(['load', 'tokenize', 'forward', 'generate']);
    expect(store.generation?.steps.map((st) => st.token)).toEqual([' east']);

    store.setPrompt('Fails');
    running = store.runAll();
    await worker.reply('tokenize', tokenized('Fails'));
    const generate = worker.pending('generate');
    await worker.reply('forward', null, 'the session broke');
    await running;
    expect(worker.posted.at(-1)).toEqual({ runId: 0, type: 'cancel', target: generate?.runId });
    expect(store.cellState('sample').status).toBe('stale');
  });

  it('keeps cell runtime by id: an opened notebook with ids of its own, and a second cell of a kind that is kept, not run', async () => {
    const { store, worker } = await started();
    const doc = parseNotebook({
      format: 'next-token-lab-notebook',
      version: 3,
      name: 'ids',
      prompt: 'The sun',
      model: { id: 'gpt2-hub', sha256: 'x' },
      backend: null,
      appVersion: '0',
      savedAt: '2026-01-01T00:00:00.000Z',
      cells: [
        { id: 'tok', kind: 'tokenize', params: {} },
        { id: 'pred-a', kind: 'predict', params: { topK: 2 } },
        { id: 'pred-b', kind: 'predict', params: { topK: 9 } },
        { id: 'gen', kind: 'sample', params: {} },
      ],
      results: { 'pred-b': { key: 'k', data: { summary: 'from the file' } } },
    });
    await store.applyDoc(doc);
    expect(store.primary).toMatchObject({ tokenize: 'tok', predict: 'pred-a', sample: 'gen' });
    expect(Object.keys(store.cells).sort()).toEqual(['attend', 'embed', 'gen', 'pred-a', 'tok']);
    expect(store.params.predict.topK).toBe(2);

    const running = store.runCell('predict');
    await worker.reply('tokenize', tokenized('The', ' sun'));
    await worker.reply('forward', forwardOf([10, 11]));
    await running;
    expect(statuses(store)).toEqual({ tok: 'done', 'pred-a': 'done', embed: 'idle', attend: 'idle', gen: 'idle' });
    const saved = store.toDoc();
    expect(Object.keys(saved.results ?? {}).sort()).toEqual(['pred-a', 'pred-b', 'tok']);
    // The second predict cell keeps what the file said; it has not run and is not given the first one's result.
    expect(saved.results?.['pred-b']).toEqual({ key: 'k', data: { summary: 'from the file' } });
    expect(saved.cells.find((c) => c.id === 'pred-b')).toEqual({ id: 'pred-b', kind: 'predict', params: { topK: 9 } });
    store.setPrompt('Another');
    expect(statuses(store)).toMatchObject({ tok: 'stale', 'pred-a': 'stale' });
  });

  it('a failing cell shows its error and stops the run; the cells after it stay as they were', async () => {
    const { store, worker } = await started();
    const running = store.runAll();
    await worker.reply('tokenize', null, 'the tokenizer refused the text');
    await running;
    expect(store.cellState('tokenize')).toMatchObject({ status: 'error', error: 'the tokenizer refused the text' });
    expect(store.errorBanner).toBe('Tokenize: the tokenizer refused the text');
    expect(statuses(store)).toMatchObject({ embed: 'idle', predict: 'idle', sample: 'idle' });
    expect(store.running).toBe(false);
  });

  it('holds one run at a time: a second run, or a claim, is refused while one holds the engine', async () => {
    const { store, worker } = await started();
    const first = store.runCell('tokenize');
    await until(() => store.running, 'the run to start');
    await store.runAll();
    let didRun = false;
    expect(await store.claim(async () => void (didRun = true))).toBe(false);
    expect(didRun).toBe(false);
    await worker.reply('tokenize', tokenized('The'));
    await first;
    expect(worker.posted.filter((m) => m.type === 'tokenize')).toHaveLength(1);
    // Released, the guard is taken again; what the work throws passes through and releases it.
    await expect(store.claim(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(store.running).toBe(false);
    expect(await store.claim(async () => void (didRun = true))).toBe(true);
    expect(didRun).toBe(true);
  });

  it('counts saved changes: a new notebook is clean, a note or prompt makes it dirty, an open is clean again', async () => {
    const { store } = await started();
    store.reset();
    expect(store.isDirty).toBe(false);
    const id = store.addNote(0, 'hello');
    expect(store.layout.map((c) => c.id)).toEqual(['tokenize', id, 'embed', 'attend', 'predict', 'sample']);
    store.moveCell(id, -1);
    store.moveCell('tokenize', 1);
    expect(store.layout.map((c) => c.id)).toEqual([id, 'tokenize', 'embed', 'attend', 'predict', 'sample']);
    expect(store.isDirty).toBe(true);
    await store.applyDoc(store.toDoc());
    expect(store.isDirty).toBe(false);
    expect(store.layout.find((c) => c.id === id)).toEqual({ id, kind: 'note', text: 'hello' });
  });
});
