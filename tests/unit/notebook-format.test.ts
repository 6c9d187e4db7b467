import { describe, expect, it } from 'vitest';
import {
  boundResults,
  MIGRATIONS,
  NOTEBOOK_VERSION,
  parseNotebook,
  serializeNotebook,
  type NotebookDoc,
} from '../../src/common/notebook-format';

const v1 = {
  format: 'next-token-lab-notebook' as const,
  version: 1,
  name: 'Sun',
  prompt: 'The sun rises in the',
  model: { id: 'seed-world', sha256: null },
  cells: [
    { id: 'c1', kind: 'tokenize', params: {} },
    { id: 'c2', kind: 'predict', params: { topK: 5, temperature: 0.7 } },
  ],
  appVersion: '0.1.0',
  savedAt: '2025-01-01T00:00:00.000Z',
};

const v2: NotebookDoc = {
  ...v1,
  version: 2,
  backend: 'wasm',
  cells: [
    { id: 'c1', kind: 'tokenize', params: {} },
    { id: 'n1', kind: 'note', params: { markdown: '# Why\nThe sun *rises*.' } },
    { id: 'f1', kind: 'from-the-future', params: [1, { b: 2, a: 1 }], outputs: { z: 1 } },
    { id: 'c2', kind: 'predict', params: { topK: 5, temperature: 0.7 } },
  ],
  results: { c1: { count: 5 }, c2: { top: [{ id: 3, prob: 0.5 }] } },
};

/** What parsing the file that `doc` serializes to gives back. */
const reload = (doc: NotebookDoc): NotebookDoc => parseNotebook(JSON.parse(serializeNotebook(doc)), 'x.ntl.json');

describe('notebook format v2', () => {
  it('is the version this app writes', () => {
    expect(NOTEBOOK_VERSION).toBe(2);
  });

  it('round-trips notes, unknown cells (extra fields and all), backend and results', () => {
    expect(reload(v2)).toEqual(v2);
    expect(reload(reload(v2))).toEqual(v2);
  });

  it('has a migration for every version before the current one, each with a round trip', () => {
    for (let version = 1; version < NOTEBOOK_VERSION; version += 1) expect(MIGRATIONS[version], `migration from ${version}`).toBeTypeOf('function');
  });

  it('migration 1 → 2: a v1 file loads as v2 with no backend, and survives save and load unchanged', () => {
    const migrated = parseNotebook(JSON.parse(JSON.stringify(v1)), 'old.ntl.json');
    expect(migrated).toEqual({ ...v1, version: 2, backend: null });
    expect(reload(migrated)).toEqual(migrated);
    expect(serializeNotebook(reload(migrated))).toBe(serializeNotebook(migrated));
  });

  it('refuses a newer version, naming the file and both versions', () => {
    expect(() => parseNotebook({ ...v2, version: 7 }, 'new.ntl.json')).toThrow(
      'new.ntl.json: written by a newer Next Token Lab (notebook version 7); this app reads versions up to 2',
    );
    expect(() => parseNotebook({ ...v2, version: 0 }, 'a.ntl.json')).toThrow('a.ntl.json: field "version"');
    expect(() => parseNotebook({ ...v2, version: '2' }, 'a.ntl.json')).toThrow('a.ntl.json: field "version"');
  });

  it('checks notes: markdown is a string of at most 100 kB', () => {
    const note = (params: unknown): unknown => ({ ...v2, cells: [{ id: 'n', kind: 'note', params }] });
    expect(() => parseNotebook(note({ markdown: 'x'.repeat(100_000) }))).not.toThrow();
    expect(() => parseNotebook(note({ markdown: 'x'.repeat(100_001) }), 'a.ntl.json')).toThrow('a.ntl.json: cell "n" (note) parameter "markdown": a note may be at most 100000 bytes');
    expect(() => parseNotebook(note({ markdown: 'é'.repeat(50_001) }))).toThrow('at most 100000 bytes');
    expect(() => parseNotebook(note({}), 'a.ntl.json')).toThrow('a.ntl.json: cell "n" (note) parameter "markdown"');
  });

  it('still checks the parameters of known cells', () => {
    expect(() => parseNotebook({ ...v2, cells: [{ id: 'p', kind: 'predict', params: { topK: 0 } }] }, 'a.ntl.json')).toThrow(
      'a.ntl.json: cell "p" (predict) parameter "topK": k must be at least 1',
    );
    expect(() => parseNotebook({ ...v2, backend: 3 }, 'a.ntl.json')).toThrow('a.ntl.json: field "backend"');
  });

  it('serializes byte-identically for equal docs, whatever their key order', () => {
    const reordered = {
      ...v2,
      results: { c2: v2.results?.['c2'], c1: v2.results?.['c1'] },
      cells: v2.cells.map((c) => Object.fromEntries(Object.entries(c).reverse())),
      model: { sha256: null, id: 'seed-world' },
    };
    const shuffled = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(reordered).reverse()))) as NotebookDoc;
    expect(Object.keys(shuffled)[0]).not.toBe('format');
    const text = serializeNotebook(v2);
    expect(serializeNotebook(shuffled)).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "format": "next-token-lab-notebook",\n  "version": 2,');
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['format', 'version', 'name', 'prompt', 'model', 'backend', 'cells', 'results', 'appVersion', 'savedAt']);
    // Cells: id, kind, params first; sorted keys inside.
    expect(text).toContain('"id": "f1",\n      "kind": "from-the-future",\n      "params": [\n        1,\n        {\n          "a": 1,\n          "b": 2');
  });

  it('keeps a __proto__ key as data', () => {
    const doc = parseNotebook(JSON.parse('{"format":"next-token-lab-notebook","version":2,"name":"n","prompt":"p","model":{"id":"m","sha256":null},"backend":null,"cells":[{"id":"u","kind":"odd","params":{"__proto__":{"x":1}}}],"appVersion":"0","savedAt":"0"}'));
    expect(serializeNotebook(doc)).toContain('"__proto__": {');
  });

  it('bounds results: the largest are dropped first and recorded', () => {
    const doc: NotebookDoc = { ...v2, results: { small: 'x'.repeat(10), big: 'x'.repeat(600), mid: 'x'.repeat(300) } };
    expect(boundResults(doc, 10_000)).toBe(doc);
    const bounded = boundResults(doc, 400);
    expect(Object.keys(bounded.results ?? {}).sort()).toEqual(['mid', 'small']);
    expect(bounded.resultsDropped).toEqual(['big']);
    const tighter = boundResults(bounded, 100);
    expect(tighter.results).toEqual({ small: 'x'.repeat(10) });
    expect(tighter.resultsDropped).toEqual(['big', 'mid']);
    expect(JSON.stringify(tighter.results).length).toBeLessThanOrEqual(100);
    // A result that is back is no longer listed as dropped.
    expect(boundResults({ ...tighter, results: { ...tighter.results, big: 1 } }, 100).resultsDropped).toEqual(['mid']);
    expect(reload(tighter)).toEqual(tighter);
  });

  it('bounds results to 2 MB by default', () => {
    const doc: NotebookDoc = { ...v2, results: { a: 'x'.repeat(1_500_000), b: 'y'.repeat(1_000_000), c: 1 } };
    const bounded = boundResults(doc);
    expect(bounded.resultsDropped).toEqual(['a']);
    expect(Object.keys(bounded.results ?? {})).toEqual(['b', 'c']);
  });
});
