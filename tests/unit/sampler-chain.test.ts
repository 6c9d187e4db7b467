import { describe, expect, it } from 'vitest';
import { applyChain, draw, type SamplerState } from '../../src/engine/sampling/chain';
import { SeededRandom } from '../../src/engine/rng';
import {
  applyDry,
  applyPenalties,
  applyTemperature,
  epsilonFilter,
  etaFilter,
  lastTokens,
  minPFilter,
  mirostatFilter,
  probabilities,
  topKFilter,
  topNSigmaFilter,
  topPFilter,
  typicalFilter,
  xtcFilter,
} from '../../src/engine/sampling/filters';
import { isComputedCell, parseNotebook } from '../../src/common/notebook-format';
import { columnMetrics } from '../../src/engine/sampling/metrics';
import { BeamSettings, DEFAULT_ORDER, firstIssue, SamplerSettings, type SamplerSettingsInput } from '../../src/common/sampler-settings';
import { presetSettings } from '../../src/common/sampling-strategy';

function initialSamplerState(seed: number, settings: Pick<SamplerSettings, 'mirostatTau'>): SamplerState {
  return { rng: new SeededRandom(seed).snapshot, mu: settings.mirostatTau !== undefined ? 2 * settings.mirostatTau : null };
}

// Probabilities 0.5, 0.25, 0.125, 0.125.
const P = [0.5, 0.25, 0.125, 0.125];
const LOGITS = Float64Array.from(P.map(Math.log));
const kept = (logits: Float64Array): number[] => Array.from(logits.keys()).filter((i) => (logits[i] ?? -Infinity) > -Infinity);
const settings = (input: SamplerSettingsInput = {}): SamplerSettings => SamplerSettings.parse(input);
const STATE: SamplerState = { rng: 1234, mu: null };
const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((x, y) => x + y, 0);

describe('penalties', () => {
  it('leave the logits alone with an empty history', () => {
    expect(Array.from(applyPenalties(LOGITS, [], 1.5, 1, 1))).toEqual(Array.from(LOGITS));
    const r = applyChain(LOGITS, [], settings({ repetitionPenalty: 2, frequencyPenalty: 1, presencePenalty: 1, greedy: true }), STATE);
    expect(r.id).toBe(0);
  });

  it('divide positive and multiply negative logits of repeated tokens (CTRL)', () => {
    expect(Array.from(applyPenalties(Float64Array.from([2, -1, 0.5]), [0, 1], 2))).toEqual([1, -2, 0.5]);
  });

  it('subtract count × frequency + presence', () => {
    expect(Array.from(applyPenalties(Float64Array.from([0, 0, 0]), [0, 0, 1], 1, 0.5, 0.25))).toEqual([-1.25, -0.75, 0]);
  });

  it('look at the last N tokens: -1 all, 0 none', () => {
    expect(lastTokens([1, 2, 3], 2)).toEqual([2, 3]);
    expect(lastTokens([1, 2, 3], 0)).toEqual([]);
    expect(lastTokens([1, 2, 3], -1)).toEqual([1, 2, 3]);
    const r = applyChain(LOGITS, [0, 1, 2], settings({ repetitionPenalty: 10, penaltyLastN: 1, greedy: true }), STATE);
    expect(r.id).toBe(0);
    const r2 = applyChain(LOGITS, [0, 1, 2], settings({ presencePenalty: 2, penaltyLastN: 3, greedy: true }), STATE);
    expect(r2.id).toBe(3);
  });

  it('DRY penalises the token that would extend a repeated sequence', () => {
    const zeros = new Float64Array(5);
    const dry = { multiplier: 1, base: 2, allowedLength: 2 };
    // "1 2 3 1 2": after "1 2" came 3 before; a match of length 2.
    expect(Array.from(applyDry(zeros, [1, 2, 3, 1, 2], dry))).toEqual([0, 0, 0, -1, 0]);
    expect(Array.from(applyDry(zeros, [1, 2, 3, 1, 2], { ...dry, allowedLength: 3 }))).toEqual([0, 0, 0, 0, 0]);
    // A breaker stops the match.
    expect(Array.from(applyDry(zeros, [1, 2, 3, 1, 2], dry, (id) => id === 1))).toEqual([0, 0, 0, 0, 0]);
    // Length 3 over an allowed 2: multiplier × base^1.
    const long = applyDry(new Float64Array(6), [1, 2, 3, 4, 1, 2, 3], { multiplier: 0.8, base: 1.75, allowedLength: 2 });
    expect(long[4]).toBeCloseTo(-1.4, 12);
    expect(Array.from(applyDry(zeros, [], dry))).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('temperature', () => {
  it('divides the logits', () => {
    expect(Array.from(applyTemperature(Float64Array.from([2, 4, -Infinity]), 2))).toEqual([1, 2, -Infinity]);
  });

  it('near 0 puts all the mass on the top token, shared between ties', () => {
    const r = applyChain([1, 3, 2], [], settings({ temperature: 1e-6 }), STATE);
    expect(Array.from(r.filtered)).toEqual([0, 1, 0]);
    expect(r.kept).toBe(1);
    const tie = probabilities(applyTemperature(Float64Array.from([1, 1, 0]), 1e-6));
    expect(Array.from(tie)).toEqual([0.5, 0.5, 0]);
  });
});

describe('truncation filters', () => {
  it('top-k keeps k tokens, lower id first on ties; k above the vocabulary keeps all', () => {
    expect(kept(topKFilter(LOGITS, 2))).toEqual([0, 1]);
    expect(kept(topKFilter(Float64Array.from([1, 1, 1, 0]), 2))).toEqual([0, 1]);
    expect(kept(topKFilter(LOGITS, 99))).toEqual([0, 1, 2, 3]);
  });

  it('top-p keeps the smallest set reaching p, the crossing token included; p = 1 keeps all', () => {
    expect(kept(topPFilter(LOGITS, 0.5))).toEqual([0]);
    expect(kept(topPFilter(LOGITS, 0.6))).toEqual([0, 1]);
    expect(kept(topPFilter(LOGITS, 0.8))).toEqual([0, 1, 2]);
    expect(kept(topPFilter(LOGITS, 1))).toEqual([0, 1, 2, 3]);
    expect(kept(topPFilter(Float64Array.from([0.4, 0.3, 0.3].map(Math.log)), 0.5))).toEqual([0, 1]);
  });

  it('min-p keeps tokens at least min-p × the top probability; 0 keeps all, 1 only the top (and its ties)', () => {
    expect(kept(minPFilter(LOGITS, 0))).toEqual([0, 1, 2, 3]);
    expect(kept(minPFilter(LOGITS, 0.3))).toEqual([0, 1]);
    expect(kept(minPFilter(LOGITS, 0.24))).toEqual([0, 1, 2, 3]);
    expect(kept(minPFilter(LOGITS, 1))).toEqual([0]);
    expect(kept(minPFilter(Float64Array.from([2, 2, 1]), 1))).toEqual([0, 1]);
  });

  it('typical-p keeps the tokens whose surprise is closest to the entropy; 1 keeps all', () => {
    // Entropy 1.75 bits = 1.213 nats; |surprise − entropy| = 0.520, 0.173, 0.866, 0.866.
    expect(kept(typicalFilter(LOGITS, 0.2))).toEqual([1]);
    expect(kept(typicalFilter(LOGITS, 0.5))).toEqual([0, 1]);
    expect(kept(typicalFilter(LOGITS, 0.8))).toEqual([0, 1, 2]);
    expect(kept(typicalFilter(LOGITS, 1))).toEqual([0, 1, 2, 3]);
  });

  it('top-nσ keeps logits at least max − n·σ', () => {
    // Mean 1.5, σ = √1.25 ≈ 1.118: the bar is 1.882 for n = 1.
    const logits = Float64Array.from([3, 2, 1, 0]);
    expect(kept(topNSigmaFilter(logits, 1))).toEqual([0, 1]);
    expect(kept(topNSigmaFilter(logits, 0))).toEqual([0]);
    expect(kept(topNSigmaFilter(logits, 3))).toEqual([0, 1, 2, 3]);
    expect(kept(topNSigmaFilter(Float64Array.from([3, 3, 1]), 0))).toEqual([0, 1]);
  });

  it('XTC removes the tokens above the threshold but the least likely of them', () => {
    expect(kept(xtcFilter(LOGITS, 0.2))).toEqual([1, 2, 3]);
    expect(kept(xtcFilter(LOGITS, 0.1))).toEqual([3]);
    expect(kept(xtcFilter(LOGITS, 0.3))).toEqual([0, 1, 2, 3]);
  });

  it('XTC with probability 0 never fires (and draws nothing); with 1 always fires', () => {
    const never = applyChain(LOGITS, [], settings({ xtcProbability: 0, xtcThreshold: 0.2 }), STATE);
    expect(never.kept).toBe(4);
    expect(never.state.rng).toBe(applyChain(LOGITS, [], settings(), STATE).state.rng);
    const always = applyChain(LOGITS, [], settings({ xtcProbability: 1, xtcThreshold: 0.2 }), STATE);
    expect(always.kept).toBe(3);
    expect(always.filtered[0]).toBe(0);
    expect(always.filtered[1]).toBeCloseTo(0.5, 12);
  });

  it('epsilon keeps tokens with probability at least ε, and always one', () => {
    expect(kept(epsilonFilter(LOGITS, 0.2))).toEqual([0, 1]);
    expect(kept(epsilonFilter(LOGITS, 0))).toEqual([0, 1, 2, 3]);
    expect(kept(epsilonFilter(LOGITS, 0.9))).toEqual([0]);
  });

  it('eta keeps tokens with probability at least min(η, √η·e^−H)', () => {
    // H = 1.213 nats: for η = 0.2 the bar is min(0.2, 0.447 × 0.297) = 0.133.
    expect(kept(etaFilter(LOGITS, 0.2))).toEqual([0, 1]);
    // For η = 0.01: min(0.01, 0.1 × 0.297) = 0.01.
    expect(kept(etaFilter(LOGITS, 0.01))).toEqual([0, 1, 2, 3]);
  });

  it('Mirostat v2 keeps tokens whose surprise is at most mu, and moves mu towards tau', () => {
    // Surprises 1, 2, 3, 3 bits.
    expect(kept(mirostatFilter(LOGITS, 1.5))).toEqual([0]);
    expect(kept(mirostatFilter(LOGITS, 2))).toEqual([0, 1]);
    expect(kept(mirostatFilter(LOGITS, 0.1))).toEqual([0]);
    const s = settings({ mirostatTau: 3, mirostatEta: 0.1, greedy: true });
    const first = applyChain(LOGITS, [], s, initialSamplerState(0, s));
    // mu starts at 2τ = 6: nothing cut; the greedy choice has surprise 1, so mu = 6 − 0.1 × (1 − 3).
    expect(first.state.mu).toBeCloseTo(6.2, 12);
    const cut = applyChain(LOGITS, [], s, { rng: 0, mu: 1.5 });
    expect(cut.kept).toBe(1);
  });
});

describe('the chain', () => {
  it('runs the default order: penalties, dry, temperature, top-k, top-p, min-p, typical, then the rest', () => {
    expect(DEFAULT_ORDER.slice(0, 7)).toEqual(['penalties', 'dry', 'temperature', 'top-k', 'top-p', 'min-p', 'typical']);
    expect(settings().order).toEqual([...DEFAULT_ORDER]);
  });

  it('has an order that matters: temperature before top-p sharpens what top-p sees', () => {
    const before = applyChain(LOGITS, [], settings({ temperature: 0.5, topP: 0.6 }), STATE);
    expect(before.kept).toBe(1);
    const after = applyChain(LOGITS, [], settings({ temperature: 0.5, topP: 0.6, order: ['top-p', 'temperature'] }), STATE);
    expect(after.kept).toBe(2);
    // p ∝ p² over the two kept tokens.
    expect(after.filtered[0]).toBeCloseTo(0.8, 12);
  });

  it('greedy keeps exactly the most likely token and draws nothing', () => {
    const r = applyChain(LOGITS, [], settings({ greedy: true }), STATE);
    expect(Array.from(r.filtered)).toEqual([1, 0, 0, 0]);
    expect(r).toMatchObject({ id: 0, rank: 1, kept: 1, sampledProb: 1 });
    expect(r.prob).toBeCloseTo(0.5, 12);
    expect(r.state.rng).toBe(STATE.rng);
    expect(applyChain([1, 2, 2], [], settings({ greedy: true }), STATE).id).toBe(1);
  });

  it('reports the model distribution before filtering and the filtered one after', () => {
    const r = applyChain(LOGITS, [], settings({ topK: 2 }), STATE);
    expect(Array.from(r.probs)).toEqual(P.map((p) => expect.closeTo(p, 12)));
    expect(r.filtered[0]).toBeCloseTo(2 / 3, 12);
    expect(r.filtered[1]).toBeCloseTo(1 / 3, 12);
    expect(sum(r.filtered)).toBeCloseTo(1, 12);
    expect(r.kept).toBe(2);
  });

  it('resumes exactly from a serialized state', () => {
    const s = settings({ temperature: 1.2, topP: 0.9, xtcProbability: 0.5, xtcThreshold: 0.2, mirostatTau: 2.5 });
    const run = (roundTrip: boolean): number[] => {
      let state = initialSamplerState(9, s);
      const ids: number[] = [];
      for (let i = 0; i < 30; i++) {
        const r = applyChain(LOGITS, ids, s, state);
        ids.push(r.id);
        state = roundTrip ? (JSON.parse(JSON.stringify(r.state)) as SamplerState) : r.state;
      }
      return ids;
    };
    expect(run(true)).toEqual(run(false));
  });

  it('maps the presets onto the chain', () => {
    expect(presetSettings({ strategy: 'greedy' })).toMatchObject({ greedy: true });
    expect(presetSettings({ strategy: 'greedy' }).temperature).toBeUndefined();
    expect(presetSettings({ strategy: 'top-k', temperature: 0.8, topK: 5 })).toMatchObject({ temperature: 0.8, topK: 5, greedy: false, order: [...DEFAULT_ORDER] });
    expect(presetSettings({ strategy: 'top-p', temperature: 1, topP: 0.9 })).toMatchObject({ temperature: 1, topP: 0.9 });
    expect(presetSettings({ strategy: 'temperature', temperature: 2 })).toMatchObject({ temperature: 2 });
    expect(presetSettings({ strategy: 'temperature', temperature: 2 }).topK).toBeUndefined();
  });
});

describe('refusals', () => {
  const message = (input: unknown): string => {
    const r = SamplerSettings.safeParse(input);
    if (r.success) throw new Error('accepted');
    return firstIssue(r.error).message;
  };

  it('names the knob and the limit', () => {
    expect(message({ temperature: -1 })).toBe('temperature must be greater than 0');
    expect(message({ temperature: 0 })).toBe('temperature must be greater than 0');
    expect(message({ topP: 1.5 })).toBe('p must be at most 1');
    expect(message({ topP: 0 })).toBe('p must be greater than 0');
    expect(message({ topK: 0 })).toBe('k must be at least 1');
    expect(message({ topK: 1.5 })).toBe('k must be a whole number');
    expect(message({ minP: 1.1 })).toBe('min-p must be at most 1');
    expect(message({ typicalP: 0 })).toBe('typical-p must be greater than 0');
    expect(message({ xtcProbability: 2 })).toBe('XTC probability must be at most 1');
    expect(message({ repetitionPenalty: 0 })).toBe('repetition penalty must be greater than 0');
    expect(message({ order: ['top-k', 'top-k'] })).toBe('order: each stage may appear only once');
    expect(message({ order: ['top-q'] })).toMatch(/^order: unknown stage; the stages are penalties, dry, /);
    expect(message({ topK: 3, order: ['temperature'] })).toBe('order: top-k is set but not in the order');
    expect(message({ top_k: 3 })).toMatch(/top_k/);
    const beam = BeamSettings.safeParse({ width: 9 });
    expect(beam.success ? '' : firstIssue(beam.error).message).toBe('beam width must be at most 8');
    const zero = BeamSettings.safeParse({ width: 0 });
    expect(zero.success ? '' : firstIssue(zero.error).message).toBe('beam width must be at least 1');
  });
});

describe('column metrics', () => {
  it('computes log-probability, perplexity, distinct-n and repetition', () => {
    const steps = [0.5, 0.25, 0.5, 0.25].map((prob, i) => ({ id: [7, 8, 7, 9][i] ?? 0, prob, entropy: 1 }));
    const m = columnMetrics([7], steps, 2000);
    expect(m.meanLogProb).toBeCloseTo((2 * Math.log(0.5) + 2 * Math.log(0.25)) / 4, 12);
    expect(m.perplexity).toBeCloseTo(Math.SQRT2 * 2, 12);
    expect(m.distinct1).toBe(3 / 4);
    expect(m.distinct2).toBe(1);
    // 7 (after the prompt's 7) and the second 7 repeat.
    expect(m.repetitionRate).toBe(2 / 4);
    expect(m.tokensPerSecond).toBe(2);
    expect(m.meanEntropy).toBe(1);
    expect(columnMetrics([], [], 0)).toMatchObject({ tokens: 0, perplexity: null, distinct2: null, tokensPerSecond: null });
  });
});

describe('saved notebooks', () => {
  const doc = (params: Record<string, unknown>): unknown => ({
    format: 'next-token-lab-notebook',
    version: 1,
    name: 'n',
    prompt: 'p',
    model: { id: 'seed-world', sha256: null },
    cells: [{ id: 's', kind: 'sample', params }],
    appVersion: '0.1.0',
    savedAt: '2026-11-28T00:00:00.000Z',
  });

  it('keep the knobs and the stop string, and read older sample cells without them', () => {
    const params = { sampling: { strategy: 'top-p', temperature: 1, topP: 0.9 }, knobs: { minP: 0.05, order: ['temperature', 'top-p', 'min-p'] }, stop: '.', seed: 1, maxTokens: 5 };
    const cell = parseNotebook(JSON.parse(JSON.stringify(doc(params)))).cells[0];
    expect(cell && isComputedCell(cell) ? cell.params : null).toEqual(params);
    expect(() => parseNotebook(doc({ sampling: { strategy: 'greedy' }, seed: 42, maxTokens: 4 }))).not.toThrow();
    expect(() => parseNotebook(doc({ knobs: { minP: 3 } }), 'a.ntl.json')).toThrow('a.ntl.json: cell "s" (sample) parameter "knobs.minP": min-p must be at most 1');
  });
});

describe('the draw', () => {
  it('takes the first token where the running sum passes u, never one of probability 0, and the last kept one past the end', () => {
    const probs = Float64Array.from([0, 0.5, 0, 0.25, 0.25, 0, 0]);
    expect([0, 0.49, 0.5, 0.74, 0.75, 0.99].map((u) => draw(probs, u))).toEqual([1, 1, 3, 3, 4, 4]);
    // Sums that fall short of u by rounding: the last token with a probability, not a trailing 0.
    expect(draw(Float64Array.from([0.5, 0.25, 0, 0]), 0.9)).toBe(1);
    expect(draw(new Float64Array(3), 0.5)).toBe(-1);
  });
});
