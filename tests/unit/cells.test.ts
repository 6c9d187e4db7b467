import { describe, expect, it } from 'vitest';
import { ancestors, CELL_PARAMS, dependants } from '../../src/common/cells';
import { notebookFileName, parseNotebook } from '../../src/common/notebook-format';
import { cosineSimilarityMatrix, attentionRow } from '../../src/engine/analysis';
import { depthLabel, fitPrompt, predictResult } from '../../src/engine/cell-results';
import { visibleText } from '../../src/engine/tokenizer';

describe('cell dependency graph', () => {
  it('runs ancestors first', () => {
    expect(ancestors('sample')).toEqual(['tokenize', 'predict']);
    expect(ancestors('attend')).toEqual(['tokenize']);
    expect(ancestors('tokenize')).toEqual([]);
  });

  it('marks dependants stale', () => {
    expect(dependants('tokenize').sort()).toEqual(['attend', 'embed', 'predict', 'sample']);
    expect(dependants('predict')).toEqual(['sample']);
    expect(dependants('sample')).toEqual([]);
  });

  it('fills defaults and refuses bad parameters', () => {
    expect(CELL_PARAMS.predict.parse({})).toEqual({ topK: 10, temperature: 1 });
    expect(CELL_PARAMS.predict.safeParse({ topK: 0 }).success).toBe(false);
    expect(CELL_PARAMS.sample.parse({}).sampling).toEqual({ strategy: 'greedy' });
  });
});

describe('notebook format', () => {
  const doc = {
    format: 'next-token-lab-notebook',
    version: 3,
    name: 'Sun',
    prompt: 'The sun rises in the',
    model: { id: 'seed-world', sha256: null },
    backend: null,
    cells: [{ id: 'predict', kind: 'predict', params: { topK: 5 } }],
    appVersion: '0.1.0',
    savedAt: '2026-11-28T00:00:00.000Z',
  };

  it('round-trips through JSON', () => {
    expect(parseNotebook(JSON.parse(JSON.stringify(doc)))).toEqual(doc);
  });

  it('names the field that is wrong', () => {
    expect(() => parseNotebook({ ...doc, prompt: 3 }, 'a.ntl.json')).toThrow(/a\.ntl\.json: field "prompt"/);
    expect(() => parseNotebook({ ...doc, cells: [{ id: 'p', kind: 'predict', params: { topK: 0 } }] })).toThrow(/parameter "topK"/);
  });

  it('sanitises file names', () => {
    expect(notebookFileName('../../etc/passwd')).toBe('_.._etc_passwd.ntl.json');
    expect(notebookFileName('Sun & moon')).toBe('Sun _ moon.ntl.json');
    expect(notebookFileName('')).toBe('untitled.ntl.json');
  });
});

describe('analysis helpers', () => {
  it('computes cosine similarity', () => {
    const m = cosineSimilarityMatrix([1, 0, 0, 1, 1, 1], 3, 2);
    expect(m[0]?.[0]).toBeCloseTo(1, 12);
    expect(m[0]?.[1]).toBeCloseTo(0, 12);
    expect(m[0]?.[2]).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('reads one attention row', () => {
    // 2 heads, 2 positions: head 1, query 1 is [0.3, 0.7].
    expect(attentionRow([1, 0, 0.5, 0.5, 1, 0, 0.3, 0.7], 2, 1, 1)).toEqual([0.3, 0.7]);
  });

  it('fits a sequence to the context from the left', () => {
    expect(fitPrompt([1, 2, 3, 4], 3)).toEqual({ ids: [2, 3, 4], dropped: 1 });
    expect(fitPrompt([1, 2], 3)).toEqual({ ids: [1, 2], dropped: 0 });
  });

  it('leaves room for the tokens to generate, keeping at least one prompt token', () => {
    expect(fitPrompt([1, 2, 3, 4, 5], 6, 3)).toEqual({ ids: [3, 4, 5], dropped: 2 });
    expect(fitPrompt([1, 2, 3], 4, 10)).toEqual({ ids: [3], dropped: 2 });
    expect(fitPrompt([1, 2, 3], 10, 4)).toEqual({ ids: [1, 2, 3], dropped: 0 });
  });

  it('builds one predict result: top k by probability at a temperature, and the entropy of the whole distribution', () => {
    const r = predictResult([2, 0, 1, 0], 2, 1);
    expect(r.top.map((t) => t.id)).toEqual([0, 2]);
    const z = Math.exp(2) + 2 + Math.exp(1);
    expect(r.top[0]?.prob).toBeCloseTo(Math.exp(2) / z, 12);
    const p = [Math.exp(2) / z, 1 / z, Math.exp(1) / z, 1 / z];
    expect(r.entropy).toBeCloseTo(-p.reduce((a, q) => a + q * Math.log2(q), 0), 12);
    expect(predictResult([2, 0, 1, 0], 10, 0.5).top).toHaveLength(4);
  });

  it('names the residual-stream boundaries', () => {
    expect([0, 1, 2, 3].map((d) => depthLabel(d, 4))).toEqual(['embeddings', 'after block 0', 'after block 1', 'after block 2 (final)']);
  });

  it('makes whitespace visible', () => {
    expect(visibleText(' east\n\t\u0001')).toBe('␣east↵⇥<0x01>');
  });
});
