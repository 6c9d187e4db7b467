import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChain } from '../../src/engine/sampling/chain';
import { entropyBits, softmax } from '../../src/engine/sampling/distribution';
import { applyTemperature, liveOrder, minPFilter, topKFilter, topNSigmaFilter, topPFilter, xtcFilter } from '../../src/engine/sampling/filters';
import { sortNonNegative } from '../../src/engine/sampling/float-sort';
import { histogramTopPCut, sortedTopPCut, topPCut } from '../../src/engine/sampling/top-p-cut';
import { SamplerSettings } from '../../src/common/sampler-settings';
import { SeededRandom } from '../../src/engine/rng';

/**
 * The filters that avoid sorting the vocabulary (selection, sorted probabilities) against their
 * definitions written with one full sort of the ids, compared bit for bit: seeded runs must pick
 * the same tokens as before. Ties and removed tokens are drawn often on purpose.
 */
const valueArb = fc.oneof(
  fc.integer({ min: -4, max: 4 }).map((x) => x / 2),
  fc.double({ min: -20, max: 20, noNaN: true, noDefaultInfinity: true }),
  fc.constant(-Infinity),
);
const logitsArb = fc.array(valueArb, { minLength: 1, maxLength: 300 }).map((a) => Float64Array.from(a));

function keepIds(logits: Float64Array, ids: readonly number[]): Float64Array {
  const out = new Float64Array(logits.length).fill(-Infinity);
  for (const id of ids) out[id] = logits[id] ?? -Infinity;
  if (ids.length === 0) {
    const best = liveOrder(logits)[0];
    if (best !== undefined) out[best] = logits[best] ?? -Infinity;
  }
  return out;
}

const referenceTopK = (logits: Float64Array, k: number): Float64Array => keepIds(logits, liveOrder(logits).slice(0, Math.max(1, k)));

function referenceTopP(logits: Float64Array, p: number): Float64Array {
  const probs = softmax(logits);
  const order = liveOrder(logits);
  let cumulative = 0;
  let count = 0;
  for (const id of order) {
    cumulative += probs[id] ?? 0;
    count++;
    if (cumulative >= p - 1e-12) break;
  }
  return keepIds(logits, order.slice(0, Math.max(1, count)));
}

function referenceTopNSigma(logits: Float64Array, n: number): Float64Array {
  const order = liveOrder(logits);
  if (order.length === 0) return Float64Array.from(logits);
  const values = order.map((id) => logits[id] ?? 0);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sigma = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return keepIds(logits, order.filter((id) => (logits[id] ?? -Infinity) >= (values[0] ?? 0) - n * sigma));
}

function referenceXtc(logits: Float64Array, threshold: number): Float64Array {
  const probs = softmax(logits);
  const above = liveOrder(logits).filter((id) => (probs[id] ?? 0) >= threshold);
  if (above.length < 2) return Float64Array.from(logits);
  const removed = new Set(above.slice(0, -1));
  return keepIds(logits, liveOrder(logits).filter((id) => !removed.has(id)));
}

/** The draw as defined: the first token, skipping those of probability 0, where the running sum passes u. */
function referenceDraw(probs: Float64Array, u: number): number {
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] ?? 0;
    if (p <= 0) continue;
    last = i;
    cumulative += p;
    if (u < cumulative) return i;
  }
  return last;
}

const bits = (a: Float64Array): number[] => Array.from(a, (x) => (Object.is(x, -0) ? -0 : x));

describe('sampler filters without a full sort', () => {
  it('top-k, top-p, top-nσ and XTC keep exactly the tokens their sorted definitions keep', () => {
    fc.assert(
      fc.property(logitsArb, fc.integer({ min: 1, max: 400 }), fc.double({ min: 0.001, max: 1, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }), (logits, k, p, n) => {
        expect(bits(topKFilter(logits, k))).toEqual(bits(referenceTopK(logits, k)));
        expect(bits(topPFilter(logits, p))).toEqual(bits(referenceTopP(logits, p)));
        expect(bits(topNSigmaFilter(logits, n))).toEqual(bits(referenceTopNSigma(logits, n)));
        expect(bits(xtcFilter(logits, p / 4))).toEqual(bits(referenceXtc(logits, p / 4)));
      }),
      { numRuns: 400 },
    );
  });

  it('a tie at the cut between 0 and -0 keeps each logit as it is', () => {
    // Rare under the property above (about one run in a few thousand); kept tokens used to take the cut's own zero.
    const logits = Float64Array.from([0, 0, 0, 0, -0]);
    expect(bits(topKFilter(logits, 4))).toEqual(bits(referenceTopK(logits, 4)));
    expect(bits(topPFilter(Float64Array.from([0, 0, 0, -0, 0]), 0.75))).toEqual(bits(referenceTopP(Float64Array.from([0, 0, 0, -0, 0]), 0.75)));
  });

  it('top-p over a flat 50,257-token vocabulary keeps the tokens its definition keeps', () => {
    const logits = Float64Array.from({ length: 50257 }, (_, i) => Math.sin(i * 12.9898) * 2 + (i % 5 === 0 ? 0.5 : 0));
    for (const p of [0.5, 0.9, 0.999]) expect(bits(topPFilter(logits, p))).toEqual(bits(referenceTopP(logits, p)));
  });

  it('top-p sorts only the binades it needs and keeps what its definition keeps: peaked vocabularies, long arrays, ties', () => {
    // A trained model's shape: a few tokens far above the rest.
    const peaked = Float64Array.from({ length: 50257 }, (_, i) => Math.sin(i * 12.9898) * 2 + (i % 997 === 0 ? 14 : 0) + (i === 4242 ? 18 : 0));
    for (const p of [0.1, 0.5, 0.9, 0.95, 0.999, 1]) expect(bits(topPFilter(peaked, p))).toEqual(bits(referenceTopP(peaked, p)));
    const scaled = fc.array(valueArb.map((v) => v * 3), { minLength: 256, maxLength: 2000 }).map((a) => Float64Array.from(a));
    fc.assert(
      fc.property(scaled, fc.double({ min: 0.001, max: 1, noNaN: true }), (logits, p) => {
        expect(bits(topPFilter(logits, p))).toEqual(bits(referenceTopP(logits, p)));
      }),
      { numRuns: 300 },
    );
  });

  it("top-p's cut by a histogram of the probabilities' upper bits is the cut of their sort, bit for bit", () => {
    // Vocabularies of a model's size: flat (a random model's), peaked (a trained one's), float32 logits, coarse ties, removed tokens.
    const shapeArb = fc.record({
      n: fc.integer({ min: 256, max: 60000 }),
      scale: fc.double({ min: 0.01, max: 12, noNaN: true }),
      peaks: fc.integer({ min: 0, max: 40 }),
      lift: fc.double({ min: 0, max: 25, noNaN: true }),
      step: fc.constantFrom(0, 0, 1 / 8, 1 / 1024),
      removed: fc.constantFrom(0, 0, 3, 50),
      seed: fc.integer({ min: 1, max: 1e6 }),
    });
    const pArb = fc.oneof(fc.double({ min: 0.001, max: 1, noNaN: true }), fc.constantFrom(0.5, 0.9, 0.95, 0.999, 1));
    fc.assert(
      fc.property(shapeArb, pArb, fc.double({ min: 0.2, max: 2, noNaN: true }), ({ n, scale, peaks, lift, step, removed, seed }, p, t) => {
        const logits = Float64Array.from({ length: n }, (_, i) => {
          if (removed > 0 && (i * 7 + seed) % removed === 0) return -Infinity;
          const x = Math.fround(Math.sin(i * 12.9898 + seed) * scale + ((i * 31 + seed) % 1009 < peaks ? lift : 0));
          return step > 0 ? Math.round(x / step) * step : x;
        });
        const probs = softmax(applyTemperature(logits, t));
        const sorted = sortedTopPCut(logits, probs, p);
        const found = histogramTopPCut(probs, p);
        if (found) expect(found).toEqual(sorted);
        expect(topPCut(logits, probs, p)).toEqual(sorted);
      }),
      { numRuns: 150 },
    );
    // It answers itself (no sort of the vocabulary) where the sum does not fall within rounding of p.
    const flat = Float64Array.from({ length: 50257 }, (_, i) => Math.fround(Math.sin(i * 12.9898) * 0.6));
    const flatProbs = softmax(flat);
    for (const p of [0.5, 0.9, 0.95]) expect(histogramTopPCut(flatProbs, p)).toEqual(sortedTopPCut(flat, flatProbs, p));
    expect(histogramTopPCut(flatProbs, 1)).toBeNull();
  });

  it('the radix sort of probabilities orders them as the built-in sort does, ties, zeros and subnormals included', () => {
    const valueArb = fc.oneof(fc.constant(0), fc.constant(0.25), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1e-300, noNaN: true }), fc.integer({ min: 1, max: 9 }).map((k) => k / 1024 + Number.EPSILON * k));
    fc.assert(
      fc.property(fc.array(valueArb, { minLength: 200, maxLength: 3000 }), (values) => {
        const expected = Float64Array.from(values).sort();
        expect(bits(sortNonNegative(Float64Array.from(values)))).toEqual(bits(expected));
      }),
      { numRuns: 200 },
    );
  });

  it("the chain's distributions (reusing its stages' exponentials) are the plain softmaxes of the logits and of what the stages kept, with the entropy, kept count, draw and rank of their definitions", () => {
    const longLogits = fc.array(valueArb, { minLength: 300, maxLength: 1500 }).map((a) => Float64Array.from(a));
    fc.assert(
      fc.property(longLogits, fc.double({ min: 0.3, max: 2, noNaN: true }), fc.integer({ min: 1, max: 600 }), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.2, noNaN: true }), (logits, t, k, p, minP) => {
        const cases: [SamplerSettings, (l: Float64Array) => Float64Array][] = [
          [SamplerSettings.parse({ temperature: t, topP: p }), (l) => topPFilter(applyTemperature(l, t), p)],
          [SamplerSettings.parse({ topP: p }), (l) => topPFilter(l, p)],
          [SamplerSettings.parse({ temperature: t, topK: k, topP: p, minP }), (l) => minPFilter(topPFilter(topKFilter(applyTemperature(l, t), k), p), minP)],
          [SamplerSettings.parse({ greedy: true }), (l) => l],
        ];
        for (const [settings, kept] of cases) {
          const result = applyChain(logits, [], settings, { rng: 5, mu: null });
          expect(bits(result.probs)).toEqual(bits(softmax(logits, 1)));
          expect(Math.abs(result.entropy - entropyBits(result.probs))).toBeLessThanOrEqual(1e-12 * Math.max(1, result.entropy));
          expect(result.kept).toBe(result.filtered.filter((p) => p > 0).length);
          const logit = logits[result.id] ?? -Infinity;
          expect(result.rank).toBe(1 + logits.filter((l, i) => l > logit || (l === logit && i < result.id)).length);
          if (!settings.greedy) expect(result.id).toBe(referenceDraw(result.filtered, SeededRandom.resume(5).next()));
          if (!settings.greedy) expect(bits(result.filtered)).toEqual(bits(softmax(kept(Float64Array.from(logits)), 1)));
        }
      }),
      { numRuns: 150 },
    );
  });
});

