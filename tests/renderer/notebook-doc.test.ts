import { describe, expect, it } from 'vitest';
import { formatNotebook, parseNotebook, type CellDoc } from '../../src/common/notebook-format';
import type { ForwardPayload, TokenizeResult } from '../../src/renderer/src/engine/protocol';
import {
  cellResults,
  DEFAULT_CONTEXT,
  defaultLayout,
  defaultParams,
  fromNotebookDoc,
  primaryCells,
  resultKey,
  toNotebookDoc,
  type NotebookState,
  type RunRecord,
} from '../../src/renderer/src/stores/notebook-doc';

const STAMP = { appVersion: '9.9.9', savedAt: '2026-12-05T19:00:00.000Z' };

/** A notebook as a user leaves it: notes, a cell of a kind from a newer app, a second Predict cell, ids of its own. */
function richState(): NotebookState {
  const params = defaultParams();
  params.predict = { topK: 5, temperature: 0.7 };
  params.attend = { layer: 1, head: 0, query: 2 };
  params.sample = { ...params.sample, seed: 7, maxTokens: 20, stop: '.' };
  const layout: CellDoc[] = [
    { id: 'note-1', kind: 'note', text: 'Why the **sun**: {{top1}}' },
    { id: 't', kind: 'tokenize', params: {} },
    { id: 'e', kind: 'embed', params: { dimStart: 0, dimCount: 64 } },
    { id: 'a', kind: 'attend', params: { layer: 1, head: 0, query: 2 } },
    { id: 'p', kind: 'predict', params: { topK: 5, temperature: 0.7 } },
    { id: 'future', kind: 'probe', layer: 3, extra: { nested: [1, 2] } },
    { id: 'p2', kind: 'predict', params: { topK: 7 } },
    { id: 's', kind: 'sample', params: { ...params.sample } },
  ];
  return {
    name: 'Sunrise',
    prompt: 'The sun rises in the',
    model: { id: 'seed-world', sha256: 'ab'.repeat(32) },
    backend: 'wasm',
    layout,
    params,
    results: { p: { key: '0123abcd', data: { summary: 'top-1 " east" at 40.0%' } } },
    compare: { maxTokens: 9, columns: [{ name: 'A', seed: 1, strategy: { strategy: 'greedy' } }, { name: 'B', seed: 2, strategy: { strategy: 'top-p', temperature: 0.9, topP: 0.8 } }] },
    context: { a: 'money bank', b: 'river bank', word: ' bank' },
  };
}

describe('the notebook document and the store state (pure conversions)', () => {
  it('names the first cell of each kind as the one shown; a kind the notebook lacks keeps the kind as id', () => {
    expect(primaryCells(richState().layout)).toEqual({ tokenize: 't', embed: 'e', attend: 'a', predict: 'p', sample: 's' });
    expect(primaryCells(defaultLayout())).toEqual({ tokenize: 'tokenize', embed: 'embed', attend: 'attend', predict: 'predict', sample: 'sample' });
    expect(primaryCells([{ id: 'n', kind: 'note', text: '' }, { id: 'x', kind: 'predict', params: {} }])).toEqual({ tokenize: 'tokenize', embed: 'embed', attend: 'attend', predict: 'x', sample: 'sample' });
  });

  it('state → document → state gives the same state back (the backend is the run\'s, not the notebook\'s)', () => {
    const state = richState();
    const doc = toNotebookDoc(state, STAMP);
    const { backend, ...rest } = state;
    expect(backend).toBe('wasm');
    expect(doc.backend).toBe('wasm');
    expect(fromNotebookDoc(doc)).toEqual(rest);
  });

  it('writes the edited parameters into the first cell of each kind only; later ones and unknown cells stay as read', () => {
    const doc = toNotebookDoc(richState(), STAMP);
    expect(doc.cells.find((c) => c.id === 'p')).toEqual({ id: 'p', kind: 'predict', params: { topK: 5, temperature: 0.7 } });
    expect(doc.cells.find((c) => c.id === 'p2')).toEqual({ id: 'p2', kind: 'predict', params: { topK: 7 } });
    expect(doc.cells.find((c) => c.id === 'future')).toEqual({ id: 'future', kind: 'probe', layer: 3, extra: { nested: [1, 2] } });
    expect(doc.cells.map((c) => c.id)).toEqual(['note-1', 't', 'e', 'a', 'p', 'future', 'p2', 's']);
  });

  it('file text → document → state → document → file text is the same text', () => {
    const text = formatNotebook(toNotebookDoc(richState(), STAMP));
    const again = formatNotebook(toNotebookDoc({ ...fromNotebookDoc(parseNotebook(JSON.parse(text))), backend: 'wasm' }, STAMP));
    expect(again).toBe(text);
  });

  it('opens a version 1 file with defaults for what it does not say, and its first cells\' parameters', () => {
    const v1 = {
      format: 'next-token-lab-notebook',
      version: 1,
      name: 'old',
      prompt: 'Hello',
      model: { id: 'seed-world', sha256: null },
      appVersion: '0.1.0',
      savedAt: '2026-01-01T00:00:00.000Z',
      cells: [
        { id: 'tokenize', kind: 'tokenize', params: {} },
        { id: 'predict', kind: 'predict', params: { topK: 3 } },
      ],
    };
    const state = fromNotebookDoc(parseNotebook(v1));
    expect(state.params.predict).toEqual({ topK: 3, temperature: 1 });
    expect(state.params.sample).toEqual(defaultParams().sample);
    expect(state.compare).toBeNull();
    expect(state.context).toEqual(DEFAULT_CONTEXT);
    expect(state.results).toEqual({});
    // Saved again, the missing kinds stay missing and the predict cell gets its full parameters.
    const doc = toNotebookDoc({ ...state, backend: null }, STAMP);
    expect(doc.cells).toEqual([{ id: 'tokenize', kind: 'tokenize', params: {} }, { id: 'predict', kind: 'predict', params: { topK: 3, temperature: 1 } }]);
    expect(doc.compare).toBeUndefined();
  });

  it('keeps the results of finished cells by id, with the computed values, and none for cells that did not finish or are not shown', () => {
    const layout = richState().layout;
    const tokens: TokenizeResult = { pieces: [{ id: 5, text: 'The', display: 'The' }, { id: 9, text: ' sun', display: '␣sun' }], dropped: 0, context: 64 };
    // Logits 0 and ln 3: probabilities 1/4 and 3/4.
    const forward = { ids: [5, 9], lastLogits: new Float32Array([0, Math.log(3)]), topPieces: [{ id: 1, text: ' east', display: '␣east' }] } as unknown as ForwardPayload;
    const params = defaultParams();
    params.predict = { topK: 2, temperature: 1 };
    const run: RunRecord = {
      model: 'sha:fp16',
      prompt: 'The sun',
      params,
      cells: { t: { status: 'done', error: null, ms: 1 }, p: { status: 'done', error: null, ms: 2 }, s: { status: 'stale', error: null, ms: 3 } },
      tokens,
      forward,
      generation: { ids: [5, 9, 1], steps: [{ id: 1, token: ' east', prob: 0.75 } as never], rngState: 0, stopReason: null },
      piece: (id) => forward.topPieces.find((p) => p.id === id) ?? { id, text: `<${id}>`, display: `<${id}>` },
    };
    const results = cellResults(layout, run);
    expect(Object.keys(results)).toEqual(['t', 'p']);
    expect(results.t).toEqual({ key: resultKey(['sha:fp16', 'The sun', {}, null]), data: { summary: '2 tokens', ids: [5, 9], text: ['The', ' sun'] } });
    const predict = results.p?.data as { summary: string; top: { id: number; token: string; prob: number }[] };
    expect(predict.summary).toBe('top-1 “␣east” at 75.0%');
    expect(predict.top.map((t) => t.id)).toEqual([1, 0]);
    expect(predict.top[0]?.prob).toBeCloseTo(0.75, 6);
    expect(predict.top[1]).toMatchObject({ id: 0, token: '<0>' });
    expect(predict.top[1]?.prob).toBeCloseTo(0.25, 6);
    // Another prompt or predict setting is another key; the model's hash and variant are part of it.
    expect(results.p?.key).toBe(resultKey(['sha:fp16', 'The sun', {}, { topK: 2, temperature: 1 }]));
    expect(cellResults(layout, { ...run, model: 'sha' }).p?.key).not.toBe(results.p?.key);
  });
});

describe('which cells are shown, and why the others are kept as read', () => {
  it('shows the first cell of each kind and notes; says why a second cell of a kind or an unknown kind is not shown', async () => {
    const { keptReason } = await import('../../src/renderer/src/stores/notebook-doc');
    const layout = richState().layout;
    const primary = primaryCells(layout);
    expect(Object.fromEntries(layout.map((c) => [c.id, keptReason(c, primary)]))).toEqual({
      'note-1': null,
      t: null,
      e: null,
      a: null,
      p: null,
      future: 'This version of the app does not know this kind of cell.',
      p2: 'A second predict cell: this version shows one of each kind.',
      s: null,
    });
  });
});
