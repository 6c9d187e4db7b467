import { describe, expect, it } from 'vitest';
import { CELL_PARAMS, type CellParams } from '../../src/common/cells';
import { parseNotebook, serializeNotebook, type NotebookDoc } from '../../src/common/notebook-format';
import { cellsToSave, DEFAULT_LAYOUT, keptResultsOf, layoutOf } from '../../src/renderer/src/stores/notebook-layout';

const params: CellParams = {
  tokenize: CELL_PARAMS.tokenize.parse({}),
  embed: CELL_PARAMS.embed.parse({}),
  attend: CELL_PARAMS.attend.parse({}),
  predict: CELL_PARAMS.predict.parse({ topK: 3 }),
  sample: CELL_PARAMS.sample.parse({}),
};

const doc: NotebookDoc = {
  format: 'next-token-lab-notebook',
  version: 2,
  name: 'n',
  prompt: 'p',
  model: { id: 'seed-world', sha256: null },
  backend: null,
  cells: [
    { id: 'n1', kind: 'note', params: { markdown: 'first' } },
    { id: 'predict', kind: 'predict', params: { topK: 3 } },
    { id: 'f1', kind: 'future', params: { x: [1] }, extra: true },
  ],
  results: { n1: 'kept', predict: 'recomputed', f1: { y: 2 } },
  appVersion: '0.1.0',
  savedAt: '2025-01-01T00:00:00.000Z',
};

describe('the renderer keeps notes and unknown cells', () => {
  it('writes them back unchanged, in their place, with the known cells the store holds', () => {
    const cells = cellsToSave(layoutOf(doc), params);
    expect(cells.map((c) => c.id)).toEqual(['n1', 'predict', 'f1', 'tokenize', 'embed', 'attend', 'sample']);
    expect(cells[0]).toEqual(doc.cells[0]);
    expect(cells[2]).toEqual(doc.cells[2]);
    expect(keptResultsOf(doc)).toEqual({ n1: 'kept', f1: { y: 2 } });
    const saved = parseNotebook(JSON.parse(serializeNotebook({ ...doc, cells, results: keptResultsOf(doc) })));
    expect(saved.cells.filter((c) => c.kind === 'note' || c.kind === 'future')).toEqual([doc.cells[0], doc.cells[2]]);
  });

  it('a new notebook has the five cells', () => {
    expect(cellsToSave(DEFAULT_LAYOUT, params).map((c) => c.kind)).toEqual(['tokenize', 'embed', 'attend', 'predict', 'sample']);
  });
});
