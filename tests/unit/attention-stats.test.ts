import { describe, expect, it } from 'vitest';
import { allHeadStats, attentionRollout, attentionRolloutRow, entropyBits, headAverage, headStats } from '../../src/engine/attention-stats';

/** Lays out per-head [query][key] matrices (rows may be short: the causal future is 0) as the engine does. */
function layer(heads: number[][][]): Float32Array {
  const n = heads[0]?.length ?? 0;
  const out = new Float32Array(heads.length * n * n);
  heads.forEach((m, h) => m.forEach((row, q) => row.forEach((w, k) => (out[(h * n + q) * n + k] = w))));
  return out;
}

// Head 0 looks at the previous token; head 1 spreads out and keeps half on itself.
const LAYER = layer([
  [[1], [1, 0], [0, 1, 0]],
  [[1], [0.5, 0.5], [0.25, 0.25, 0.5]],
]);

describe('head statistics', () => {
  it('entropy in bits', () => {
    expect(entropyBits([1, 0, 0])).toBe(0);
    expect(entropyBits([0.5, 0.5])).toBe(1);
    expect(entropyBits([0.25, 0.25, 0.5])).toBe(1.5);
  });

  it('a previous-token head that is also a first-token sink at the threshold', () => {
    const s = headStats(LAYER, 3, 0, 0);
    expect(s).toMatchObject({ layer: 0, head: 0, queries: 2, entropyBits: 0, entropyNormalised: 0, previous: 1, first: 0.5, self: 0 });
    expect(s.labels).toEqual(['previous-token', 'first-token sink']);
  });

  it('a spread head that keeps half on itself', () => {
    const s = headStats(LAYER, 3, 2, 1);
    expect(s.entropyBits).toBe(1.25);
    expect(s.entropyNormalised).toBeCloseTo((1 + 1.5 / Math.log2(3)) / 2, 12);
    expect(s).toMatchObject({ layer: 2, head: 1, previous: 0.375, first: 0.375, self: 0.5 });
    expect(s.labels).toEqual(['self']);
  });

  it('one token: nothing to average', () => {
    const s = headStats(layer([[[1]]]), 1, 0, 0);
    expect(s.queries).toBe(0);
    expect(s.entropyBits).toBeNaN();
    expect(s.labels).toEqual([]);
  });

  it('every head of every layer, in order', () => {
    const stats = allHeadStats([LAYER, LAYER], 2, 3);
    expect(stats.map((s) => [s.layer, s.head])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
  });
});

describe('attention rollout', () => {
  it('averages heads', () => {
    expect(headAverage(LAYER, 2, 3)).toEqual([
      [1, 0, 0],
      [0.75, 0.25, 0],
      [0.125, 0.625, 0.25],
    ]);
  });

  it('two layers of two heads, by hand', () => {
    // Layer 0 averages to [[1,0],[0.5,0.5]] → with the identity [[1,0],[0.25,0.75]];
    // layer 1 to [[1,0],[1,0]] → [[1,0],[0.5,0.5]]. Row 1 of the product: 0.5·[1,0] + 0.5·[0.25,0.75].
    const l0 = layer([
      [[1], [1, 0]],
      [[1], [0, 1]],
    ]);
    const l1 = layer([
      [[1], [1, 0]],
      [[1], [1, 0]],
    ]);
    expect(attentionRollout([l0, l1], 2, 2)).toEqual([
      [1, 0],
      [0.625, 0.375],
    ]);
  });

  it('multiplies the later layer on the left', () => {
    // Â0 = [[1,0,0],[0,1,0],[0.5,0,0.5]], Â1 = [[1,0,0],[0.5,0.5,0],[0,0.5,0.5]]; Â1·Â0 (not Â0·Â1, whose last row is [0.5,0.25,0.25]).
    const l0 = layer([[[1], [0, 1], [1, 0, 0]]]);
    const l1 = layer([[[1], [1, 0], [0, 1, 0]]]);
    expect(attentionRollout([l0, l1], 1, 3)).toEqual([
      [1, 0, 0],
      [0.5, 0.5, 0],
      [0.25, 0.5, 0.25],
    ]);
    expect(attentionRolloutRow([l0, l1], 1, 3, 2)).toEqual([0.25, 0.5, 0.25]);
  });

  it('rows sum to 1 on uneven weights', () => {
    const n = 6;
    let seed = 7;
    const next = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const randomLayer = (): Float32Array =>
      layer(
        Array.from({ length: 3 }, () =>
          Array.from({ length: n }, (_, q) => {
            const raw = Array.from({ length: q + 1 }, next);
            const sum = raw.reduce((a, b) => a + b, 0);
            return raw.map((v) => v / sum);
          }),
        ),
      );
    const layers = [randomLayer(), randomLayer(), randomLayer()];
    const rollout = attentionRollout(layers, 3, n);
    rollout.forEach((row, q) => {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      row.slice(q + 1).forEach((w) => expect(w).toBe(0));
      // One row alone, multiplied from the last layer down, is the same row.
      attentionRolloutRow(layers, 3, n, q).forEach((w, k) => expect(w).toBeCloseTo(row[k] ?? NaN, 12));
    });
  });
});
