import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChain } from '../../src/engine/sampling/chain';
import { entropyBits, rankOrder, softmax, softmaxAndEntropy } from '../../src/engine/sampling/distribution';
import { liveOrder, minPFilter, topKFilter, topOrder, topPFilter } from '../../src/engine/sampling/filters';
import { SamplerSettings, STAGES, type SamplerSettingsInput } from '../../src/common/sampler-settings';

const logitsArb = fc.array(fc.double({ min: -30, max: 30, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 }).map((a) => Float64Array.from(a));
const historyArb = fc.array(fc.nat({ max: 39 }), { maxLength: 30 });
const prob = (min: number) => fc.double({ min, max: 1, noNaN: true });

const settingsArb: fc.Arbitrary<SamplerSettingsInput> = fc.record(
  {
    repetitionPenalty: fc.double({ min: 0.5, max: 3, noNaN: true }),
    frequencyPenalty: fc.double({ min: -2, max: 2, noNaN: true }),
    presencePenalty: fc.double({ min: -2, max: 2, noNaN: true }),
    dryMultiplier: fc.double({ min: 0, max: 3, noNaN: true }),
    temperature: fc.double({ min: 0.01, max: 5, noNaN: true }),
    topK: fc.integer({ min: 1, max: 50 }),
    topP: prob(0.001),
    minP: prob(0),
    typicalP: prob(0.001),
    topNSigma: fc.double({ min: 0, max: 5, noNaN: true }),
    xtcProbability: prob(0),
    xtcThreshold: prob(0),
    epsilonCutoff: prob(0),
    etaCutoff: prob(0),
    mirostatTau: fc.double({ min: 0.1, max: 10, noNaN: true }),
    greedy: fc.boolean(),
    order: fc.shuffledSubarray([...STAGES], { minLength: STAGES.length, maxLength: STAGES.length }),
  },
  { requiredKeys: [] },
);

const keptIds = (logits: Float64Array): Set<number> => new Set(Array.from(logits.keys()).filter((i) => (logits[i] ?? -Infinity) > -Infinity));
const isSubset = (a: Set<number>, b: Set<number>): boolean => [...a].every((x) => b.has(x));

describe('sampler chain properties', () => {
  it('the filtered distribution sums to 1, keeps at least one token, and the choice is kept', () => {
    fc.assert(
      fc.property(logitsArb, historyArb, settingsArb, fc.nat(), (logits, history, input, seed) => {
        const settings = SamplerSettings.parse(input);
        const r = applyChain(logits, history, settings, { rng: seed, mu: null });
        const total = r.filtered.reduce((a, b) => a + b, 0);
        expect(total).toBeCloseTo(1, 9);
        expect(r.kept).toBeGreaterThanOrEqual(1);
        expect(r.filtered[r.id]).toBeGreaterThan(0);
        expect(r.rank).toBeGreaterThanOrEqual(1);
        expect(JSON.parse(JSON.stringify(r.state))).toEqual(r.state);
      }),
      { numRuns: 300 },
    );
  });

  it('the kept set grows with p', () => {
    fc.assert(
      fc.property(logitsArb, prob(0.001), prob(0.001), (logits, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(isSubset(keptIds(topPFilter(logits, lo)), keptIds(topPFilter(logits, hi)))).toBe(true);
      }),
    );
  });

  it('the kept set grows with k', () => {
    fc.assert(
      fc.property(logitsArb, fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), (logits, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const small = keptIds(topKFilter(logits, lo));
        const large = keptIds(topKFilter(logits, hi));
        expect(isSubset(small, large)).toBe(true);
        expect(large.size).toBe(Math.min(hi, logits.length));
      }),
    );
  });

  it('the partial order equals the full order cut short, ties included', () => {
    const tied = fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 200 }).map((a) => Float64Array.from(a));
    fc.assert(
      fc.property(fc.oneof(logitsArb, tied), fc.integer({ min: 1, max: 250 }), (logits, m) => {
        expect(topOrder(logits, m)).toEqual(liveOrder(logits).slice(0, m));
      }),
    );
  });

  it("on probabilities the partial order is rankOrder's full sort cut short (beam search's and serve-openai's top tokens), ties and zeros included", () => {
    const probsArb = fc
      .array(fc.oneof(fc.constant(0), fc.constant(0.125), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 300 })
      .map((a) => Float64Array.from(a));
    fc.assert(
      fc.property(probsArb, fc.integer({ min: 1, max: 320 }), (probs, k) => {
        expect(topOrder(probs, k)).toEqual(rankOrder(probs).slice(0, k));
      }),
    );
  });

  it('the softmax with its entropy gives the bits of the softmax, and entropyBits of it to the last few places', () => {
    fc.assert(
      fc.property(logitsArb, fc.double({ min: 0.05, max: 5, noNaN: true }), (logits, t) => {
        const { probs, entropy } = softmaxAndEntropy(logits, t, true);
        expect(Array.from(probs)).toEqual(Array.from(softmax(logits, t)));
        const bits = entropyBits(softmax(logits, t));
        expect(Math.abs(entropy - bits)).toBeLessThanOrEqual(1e-12 * Math.max(1, bits));
        expect(entropy).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('the kept set shrinks as min-p grows', () => {
    fc.assert(
      fc.property(logitsArb, prob(0), prob(0), (logits, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(isSubset(keptIds(minPFilter(logits, hi)), keptIds(minPFilter(logits, lo)))).toBe(true);
      }),
    );
  });

  it('greedy picks what top-k with k = 1 picks: the most likely token, lower id on ties', () => {
    fc.assert(
      fc.property(logitsArb, fc.nat(), (logits, seed) => {
        const greedy = applyChain(logits, [], SamplerSettings.parse({ greedy: true }), { rng: seed, mu: null });
        const top1 = applyChain(logits, [], SamplerSettings.parse({ topK: 1 }), { rng: seed, mu: null });
        const best = Array.from(logits.keys()).reduce((b, i) => ((logits[i] ?? 0) > (logits[b] ?? 0) ? i : b), 0);
        expect(greedy.id).toBe(best);
        expect(top1.id).toBe(best);
        expect(top1.kept).toBe(1);
      }),
    );
  });
});
