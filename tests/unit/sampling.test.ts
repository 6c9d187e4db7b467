import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/engine/rng';
import { entropyBits, rankOrder, softmax, topK } from '../../src/engine/sampling/distribution';
import { presetSettings, SamplingStrategy } from '../../src/common/sampling-strategy';
import { applyChain } from '../../src/engine/sampling/chain';

// What the Sample cell's presets do to one distribution, as the tests read it: the chain with no history.
interface FilteredDistribution {
  /** Probabilities after temperature and before filtering. */
  probs: Float64Array;
  /** Renormalised probabilities of the kept tokens (zero elsewhere). */
  filtered: Float64Array;
  kept: number;
}

/** Applies a strategy's temperature and filters to logits (no penalties: there is no history). */
function filterDistribution(logits: ArrayLike<number>, strategy: SamplingStrategy): FilteredDistribution {
  const temperature = strategy.strategy === 'greedy' ? 1 : strategy.temperature;
  const { filtered, kept } = applyChain(logits, [], presetSettings(strategy), { rng: 0, mu: null });
  return { probs: softmax(logits, temperature), filtered, kept };
}

interface SampledToken {
  id: number;
  /** Probability of the chosen token under the model (temperature 1, before filtering). */
  prob: number;
  /** 1-based rank of the chosen token under the model. */
  rank: number;
  /** Probability of the chosen token in the distribution it was drawn from. */
  sampledProb: number;
  kept: number;
}

/** Picks the next token with a strategy and a seeded generator (advanced by the draw). */
function sampleToken(logits: ArrayLike<number>, strategy: SamplingStrategy, rng: SeededRandom): SampledToken {
  const result = applyChain(logits, [], presetSettings(strategy), { rng: rng.snapshot, mu: null });
  rng.restore(result.state.rng);
  return { id: result.id, prob: result.prob, rank: result.rank, sampledProb: result.sampledProb, kept: result.kept };
}


const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((x, y) => x + y, 0);
// Probabilities 0.5, 0.25, 0.125, 0.125 at temperature 1.
const LOGITS = [Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.125)];

describe('softmax and friends', () => {
  it('matches hand-computed probabilities and sums to 1', () => {
    const p = softmax(LOGITS);
    expect(Array.from(p)).toEqual([0.5, 0.25, 0.125, 0.125].map((v) => expect.closeTo(v, 12)));
    expect(sum(p)).toBeCloseTo(1, 12);
  });

  it('sharpens with low temperature and flattens with high', () => {
    expect(softmax(LOGITS, 0.1)[0]).toBeGreaterThan(0.999);
    const flat = softmax(LOGITS, 100);
    expect(flat[0]).toBeCloseTo(0.25, 2);
    expect(() => softmax(LOGITS, 0)).toThrow(/greater than 0/);
  });

  it('is stable for huge logits', () => {
    const p = softmax([1000, 999, -1000]);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 10);
    expect(sum(p)).toBeCloseTo(1, 12);
  });

  it('measures entropy in bits', () => {
    expect(entropyBits([0.5, 0.25, 0.125, 0.125])).toBeCloseTo(1.75, 12);
    expect(entropyBits([1, 0, 0])).toBe(0);
  });

  it('ranks with ties broken by lower id', () => {
    expect(rankOrder([0.1, 0.4, 0.4, 0.1])).toEqual([1, 2, 0, 3]);
    expect(topK(LOGITS, 2).map((t) => t.id)).toEqual([0, 1]);
    expect(topK(LOGITS, 10)).toHaveLength(4);
  });
});

describe('strategies', () => {
  it('greedy keeps exactly the most likely token', () => {
    const f = filterDistribution(LOGITS, { strategy: 'greedy' });
    expect(f.kept).toBe(1);
    expect(Array.from(f.filtered)).toEqual([1, 0, 0, 0]);
  });

  it('top-k renormalises the k most likely tokens', () => {
    const f = filterDistribution(LOGITS, { strategy: 'top-k', temperature: 1, topK: 2 });
    expect(f.kept).toBe(2);
    expect(f.filtered[0]).toBeCloseTo(2 / 3, 12);
    expect(f.filtered[1]).toBeCloseTo(1 / 3, 12);
    expect(f.filtered[2]).toBe(0);
  });

  it('top-k larger than the vocabulary keeps everything', () => {
    expect(filterDistribution(LOGITS, { strategy: 'top-k', temperature: 1, topK: 99 }).kept).toBe(4);
  });

  it('top-p keeps the smallest set reaching p, the crossing token included', () => {
    expect(filterDistribution(LOGITS, { strategy: 'top-p', temperature: 1, topP: 0.5 }).kept).toBe(1);
    expect(filterDistribution(LOGITS, { strategy: 'top-p', temperature: 1, topP: 0.6 }).kept).toBe(2);
    expect(filterDistribution(LOGITS, { strategy: 'top-p', temperature: 1, topP: 0.75 }).kept).toBe(2);
    expect(filterDistribution(LOGITS, { strategy: 'top-p', temperature: 1, topP: 0.8 }).kept).toBe(3);
    expect(filterDistribution(LOGITS, { strategy: 'top-p', temperature: 1, topP: 1 }).kept).toBe(4);
    const f = filterDistribution(LOGITS, { strategy: 'top-p', temperature: 1, topP: 0.8 });
    expect(sum(f.filtered)).toBeCloseTo(1, 12);
  });

  it('refuses out-of-range parameters with a message', () => {
    const bad = [
      { strategy: 'temperature', temperature: -1 },
      { strategy: 'top-k', temperature: 1, topK: 0 },
      { strategy: 'top-p', temperature: 1, topP: 1.5 },
      { strategy: 'top-p', temperature: 1, topP: 0 },
    ];
    for (const b of bad) expect(SamplingStrategy.safeParse(b).success).toBe(false);
    const message = SamplingStrategy.safeParse(bad[1]).error?.issues[0]?.message;
    expect(message).toBe('k must be at least 1');
  });

  it('samples reproducibly from a seed and reports rank and probability', () => {
    const draw = (seed: number): number[] => {
      const rng = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => sampleToken(LOGITS, { strategy: 'temperature', temperature: 1 }, rng).id);
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const rng = new SeededRandom(1);
    const t = sampleToken(LOGITS, { strategy: 'greedy' }, rng);
    expect(t).toMatchObject({ id: 0, rank: 1, kept: 1 });
    expect(t.prob).toBeCloseTo(0.5, 12);
  });

  it('sampling frequencies follow the distribution', () => {
    const rng = new SeededRandom(123);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) {
      const id = sampleToken(LOGITS, { strategy: 'temperature', temperature: 1 }, rng).id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    expect((counts[0] ?? 0) / 20_000).toBeCloseTo(0.5, 1);
    expect((counts[2] ?? 0) / 20_000).toBeCloseTo(0.125, 1);
  });
});

describe('SeededRandom', () => {
  it('resumes exactly from a snapshot', () => {
    const a = new SeededRandom(99);
    a.next();
    const snap = a.snapshot;
    const next = a.next();
    expect(SeededRandom.resume(snap).next()).toBe(next);
  });

  it('gives floats in [0, 1)', () => {
    const r = new SeededRandom(0);
    for (let i = 0; i < 1000; i++) {
      const v = r.next();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });
});
