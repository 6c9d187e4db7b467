import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  boundResults,
  isComputedCell,
  isNoteCell,
  type CellDoc,
  formatNotebook,
  migrateNotebook,
  NOTEBOOK_VERSION,
  parseNotebook,
  prettyJson,
  type NotebookDoc,
} from '../../src/common/notebook-format';

/** A cell this version does not know: kept as it is in the file. */
const isUnknownCell = (cell: CellDoc): boolean => !isComputedCell(cell) && !isNoteCell(cell);

const v1Fixture: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '../node/fixtures/sun.ntl.json'), 'utf8'));

/** Every kind of cell: the five computed kinds, a note, and one of a kind from a newer app. */
const everyKind: NotebookDoc = {
  format: 'next-token-lab-notebook',
  version: 3,
  name: 'Every kind',
  prompt: 'The sun rises in the',
  model: { id: 'seed-world', sha256: 'ab'.repeat(32) },
  backend: 'wasm',
  appVersion: '0.1.0',
  savedAt: '2026-11-28T00:00:00.000Z',
  cells: [
    { id: 'n1', kind: 'note', text: '# Why\nThe sun *rises* in the **east**.\n\n- one\n- two' },
    { id: 'c1', kind: 'tokenize', params: {} },
    { id: 'c2', kind: 'embed', params: { dimStart: 2, dimCount: 8 } },
    { id: 'c3', kind: 'attend', params: { layer: 1, head: 0, query: 2 } },
    { id: 'c4', kind: 'predict', params: { topK: 3, temperature: 0.5 } },
    { id: 'c5', kind: 'sample', params: { sampling: { strategy: 'top-k', temperature: 0.8, topK: 5 }, knobs: { minP: 0.05 }, stop: '.', seed: 7, maxTokens: 4 } },
    { zeta: [1, 2, 3], kind: 'probe-3d', id: 'x1', config: { b: 1, a: { nested: true } } },
  ],
  compare: {
    maxTokens: 6,
    columns: [
      { name: 'A', seed: 42, strategy: { strategy: 'greedy' } },
      { name: 'nucleus', seed: 7, strategy: { strategy: 'top-p', temperature: 0.9, topP: 0.8 } },
    ],
  },
  results: {
    c1: { key: 'k1', data: { ids: [464, 4252, 17166], text: ['The', ' sun', ' rises'] } },
    c4: { key: 'k4', data: { top: [{ id: 7, token: ' east', prob: 0.9 }] } },
  },
};

describe('notebook format version 3', () => {
  it('round-trips every cell kind through the file text, unknown cells unchanged', () => {
    const text = formatNotebook(everyKind);
    const back = parseNotebook(JSON.parse(text), 'every.ntl.json');
    expect(back).toEqual(everyKind);
    expect(formatNotebook(back)).toBe(text);
    const unknown = back.cells.find(isUnknownCell);
    // Written back with its fields in the order they were read.
    expect(JSON.stringify(unknown)).toBe(JSON.stringify(everyKind.cells[6]));
    expect(text).toContain('"zeta": [1, 2, 3]');
  });

  it('writes keys in one order whatever order they came in', () => {
    const shuffled = JSON.parse(JSON.stringify(everyKind), (_key, value: unknown) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    ) as unknown;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(everyKind));
    const text = formatNotebook(parseNotebook(shuffled));
    const known = formatNotebook(parseNotebook(everyKind));
    // Everything but the unknown cell (kept as read) comes out the same.
    const withoutUnknown = (t: string): string => t.replace(/\{\n\s+"(zeta|config)"[\s\S]*?"kind": "probe-3d"[\s\S]*?\n {4}\}/, '');
    expect(withoutUnknown(text).replace(/\s+/g, '')).toBe(withoutUnknown(known).replace(/\s+/g, ''));
    expect(text.indexOf('"format"')).toBeLessThan(text.indexOf('"version"'));
    expect(text.indexOf('"cells"')).toBeLessThan(text.indexOf('"compare"'));
    expect(text.indexOf('"compare"')).toBeLessThan(text.indexOf('"results"'));
    expect(text).toContain('"params": {\n        "knobs": {\n          "minP": 0.05\n        },\n        "maxTokens": 4,');
  });

  it('keeps short arrays on one line and long ones one value a line', () => {
    expect(prettyJson({ a: [1, 2] })).toBe('{\n  "a": [1, 2]\n}');
    const long = prettyJson({ a: Array.from({ length: 40 }, (_, i) => i * 1000) });
    expect(long.split('\n')).toHaveLength(44);
    expect(prettyJson([])).toBe('[]');
    expect(prettyJson({})).toBe('{}');
  });

  it('names the field that is wrong, for each kind of cell', () => {
    const withCell = (cell: unknown): unknown => ({ ...everyKind, cells: [cell], results: undefined });
    expect(() => parseNotebook(withCell({ id: 'n', kind: 'note' }), 'a.ntl.json')).toThrow('a.ntl.json: field "cells.0.text"');
    expect(() => parseNotebook(withCell({ id: 'p', kind: 'predict', params: 5 }), 'a.ntl.json')).toThrow('a.ntl.json: field "cells.0.params"');
    expect(() => parseNotebook(withCell({ id: 'p', kind: 'predict', params: { topK: 0 } }), 'a.ntl.json')).toThrow('a.ntl.json: cell "p" (predict) parameter "topK": k must be at least 1');
    expect(() => parseNotebook(withCell({ kind: 'probe-3d' }), 'a.ntl.json')).toThrow('a.ntl.json: field "cells.0.id"');
    expect(() => parseNotebook({ ...everyKind, cells: [everyKind.cells[1], everyKind.cells[1]] }, 'a.ntl.json')).toThrow('cell id "c1" is used twice');
    expect(() => parseNotebook({ ...everyKind, version: 4 }, 'a.ntl.json')).toThrow('a.ntl.json: field "version": format version 4 is from a newer Next Token Lab; this one reads versions 1 to 3');
    expect(() => parseNotebook({ ...everyKind, compare: { maxTokens: 4, columns: [everyKind.compare?.columns[0]] } }, 'a.ntl.json')).toThrow('a.ntl.json: field "compare.columns": a comparison needs at least 2 columns');
    expect(() => parseNotebook({ ...everyKind, compare: { maxTokens: 4, columns: [{ name: 'A', seed: 1, strategy: { strategy: 'top-k', temperature: 1, topK: 0 } }, everyKind.compare?.columns[0]] } }, 'a.ntl.json')).toThrow('a.ntl.json: field "compare.columns.0.strategy.topK": k must be at least 1');
    expect(() => parseNotebook({ ...everyKind, format: 'other' }, 'a.ntl.json')).toThrow('a.ntl.json: field "format"');
    expect(() => parseNotebook([], 'a.ntl.json')).toThrow('a.ntl.json: not a notebook: expected a JSON object');
  });
});

describe('migrations', () => {
  it('1 → 2 → 3: keeps every field of version 1, adds the backend, and round-trips', () => {
    const migrated = migrateNotebook(v1Fixture);
    expect(migrated).toMatchObject({ version: 3, backend: null });
    expect(migrated).not.toHaveProperty('compare');
    const doc = parseNotebook(v1Fixture, 'sun.ntl.json');
    expect(doc.version).toBe(NOTEBOOK_VERSION);
    const v1Fields = Object.fromEntries(Object.entries(v1Fixture as Record<string, unknown>).filter(([key]) => key !== 'version'));
    expect(Object.keys(v1Fields)).toHaveLength(7);
    expect(doc).toMatchObject(v1Fields);
    expect(doc.cells).toEqual((v1Fixture as { cells: unknown[] }).cells);
    const text = formatNotebook(doc);
    expect(parseNotebook(JSON.parse(text))).toEqual(doc);
    expect(formatNotebook(parseNotebook(JSON.parse(text)))).toBe(text);
  });

  it('2 → 3: a version 2 file reads with every field as it was, no comparison set-up, and round-trips', () => {
    const v2: Record<string, unknown> = { ...everyKind, version: 2 };
    delete v2['compare'];
    const doc = parseNotebook(JSON.parse(JSON.stringify(v2)), 'two.ntl.json');
    expect(doc).toEqual({ ...v2, version: 3 });
    const text = formatNotebook(doc);
    expect(text).not.toContain('"compare"');
    expect(formatNotebook(parseNotebook(JSON.parse(text)))).toBe(text);
  });

  it('refuses a version 1 file that is not one, naming the version', () => {
    expect(() => parseNotebook({ format: 'next-token-lab-notebook', version: 1, cells: 'none' }, 'old.ntl.json')).toThrow(
      'old.ntl.json: field "cells": expected a list, found the text "none" (format version 1)',
    );
  });
});

describe('cached results', () => {
  it('are dropped largest first when they do not fit, and with their cell', () => {
    const big = { key: 'b', data: 'x'.repeat(1000) };
    const small = { key: 's', data: 'y'.repeat(100) };
    const doc: NotebookDoc = { ...everyKind, results: { c1: small, c2: big, c4: small, gone: small } };
    const bounded = boundResults(doc, 500);
    expect(bounded.dropped.sort()).toEqual(['c2', 'gone']);
    expect(Object.keys(bounded.doc.results ?? {}).sort()).toEqual(['c1', 'c4']);
    expect(boundResults(doc, 100).doc.results).toEqual({});
    expect(boundResults(everyKind).dropped).toEqual([]);
    expect(formatNotebook(boundResults(doc, 100).doc)).not.toContain('"results"');
  });
});
