import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beamSearch } from '../../src/engine/beam-search';
import { generate } from '../../src/engine/generate';
import { columnMetrics } from '../../src/engine/sampling/metrics';
import { SamplerSettings } from '../../src/common/sampler-settings';
import type { OnnxModel } from '../../src/engine/session';
import { loadBundled } from './load-model';
import { EVERY_SAMPLER } from './sampler-fixtures';

let model: OnnxModel;

beforeAll(async () => {
  model = await loadBundled();
});
afterAll(async () => {
  await model.release();
});

const PROMPT = 'The cat sat on the';

describe('sampling on seed-world', () => {
  it('greedy, top-k with k = 1 and beam width 1 give the same tokens', async () => {
    const ids = model.tokenizer.encode(PROMPT);
    const greedy = await generate(model, ids, { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 8 });
    const top1 = await generate(model, ids, { strategy: { strategy: 'top-k', temperature: 1, topK: 1 }, seed: 3, maxTokens: 8 });
    const beam = await beamSearch(model, ids, { width: 1, lengthPenalty: 1 }, { maxTokens: 8 });
    const tokens = greedy.steps.map((s) => s.id);
    expect(tokens).toHaveLength(8);
    expect(top1.steps.map((s) => s.id)).toEqual(tokens);
    expect(beam.steps.map((s) => s.id)).toEqual(tokens);
    expect(beam.stopReason).toBe(greedy.stopReason);
    for (const s of greedy.steps) expect(s).toMatchObject({ rank: 1, kept: 1 });
  });

  it('wider beams never find a less likely sequence than width 1 (no length penalty)', async () => {
    const ids = model.tokenizer.encode(PROMPT);
    const one = await beamSearch(model, ids, { width: 1, lengthPenalty: 0 }, { maxTokens: 4 });
    const four = await beamSearch(model, ids, { width: 4, lengthPenalty: 0 }, { maxTokens: 4 });
    expect(four.score).toBeGreaterThanOrEqual(one.score - 1e-9);
    expect(four.beams.length).toBeGreaterThanOrEqual(1);
  });

  it('beam search keeps the same beams, ranks and numbers as with a full sort of the vocabulary (width 3)', async () => {
    // Captured from the beam search that took each step's candidates from rankOrder's full sort.
    const ids = model.tokenizer.encode(PROMPT);
    const result = await beamSearch(model, ids, { width: 3, lengthPenalty: 1 }, { maxTokens: 5 });
    expect(result.beams.map((b) => ({ text: b.text, ids: b.ids.slice(ids.length), logProb: b.logProb, stopReason: b.stopReason }))).toEqual([
      { text: ' mat and slept. The', ids: [325, 292, 608, 13, 267], logProb: -1.2093192861611437, stopReason: 'max-tokens' },
      { text: ' mat. The cat sat', ids: [325, 13, 267, 305, 301], logProb: -2.2167708632005505, stopReason: 'max-tokens' },
      { text: ' mat. The cat likes', ids: [325, 13, 267, 305, 505], logProb: -2.4912230726732068, stopReason: 'max-tokens' },
    ]);
    expect(result.steps.map((s) => [s.id, s.rank, s.prob])).toEqual([[325, 1, 0.9988284211782361], [292, 2, 0.35416071413085426], [608, 1, 0.9975437686414915], [13, 1, 0.9996551621769998], [267, 1, 0.8459133090361987]]);
    // The entropy from the softmax's own terms (softmaxAndEntropy), not a logarithm per token: the same to 13 places.
    const entropies = [0.01641612813304462, 1.012417641306077, 0.03610900962892408, 0.006027456295700266, 0.8942314810597299];
    result.steps.forEach((s, i) => expect(s.entropy).toBeCloseTo(entropies[i] ?? NaN, 13));
    expect(result.score).toBe(-0.24186385723222875);
  });

  it('gives the same tokens for the same settings and seed, with every sampler on', async () => {
    const ids = model.tokenizer.encode(PROMPT);
    const settings = EVERY_SAMPLER;
    const a = await generate(model, ids, { strategy: settings, seed: 21, maxTokens: 10 });
    const b = await generate(model, ids, { strategy: settings, seed: 21, maxTokens: 10 });
    expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
    expect(a.mu).toBe(b.mu);
    expect(typeof a.mu).toBe('number');
    for (const s of a.steps) {
      expect(s.kept).toBeGreaterThanOrEqual(1);
      expect(s.entropy).toBeGreaterThan(0);
      expect(s.entropy).toBeLessThan(Math.log2(model.config.vocabSize) + 1e-9);
    }
  });

  it('DRY and the penalties break the greedy loop of "The cat sat on the mat."', async () => {
    const ids = model.tokenizer.encode(PROMPT);
    const run = async (input: object): Promise<number> => {
      const state = await generate(model, ids, { strategy: SamplerSettings.parse({ greedy: true, ...input }), seed: 0, maxTokens: 20 });
      return columnMetrics(ids, state.steps, 1).distinct2 ?? 0;
    };
    const plain = await run({});
    expect(plain).toBeLessThan(0.6);
    expect(await run({ dryMultiplier: 0.8 })).toBeGreaterThan(plain);
    expect(await run({ presencePenalty: 1 })).toBeGreaterThan(plain);
    expect(await run({ repetitionPenalty: 1.5 })).toBeGreaterThan(plain);
  });

  it('stops at a stop string, keeping the token that completes it', async () => {
    const ids = model.tokenizer.encode('The sun rises in the');
    const greedy = await generate(model, ids, { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 12 });
    const text = greedy.steps.map((s) => s.token).join('');
    const stop = greedy.steps[1]?.token.trim() || '.';
    expect(text).toContain(stop);
    const stopped = await generate(model, ids, { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 12, stop });
    expect(stopped.stopReason).toBe('stop-string');
    expect(stopped.steps.map((s) => s.token).join('')).toContain(stop);
    expect(stopped.steps.length).toBeLessThanOrEqual(greedy.steps.length);
  });
});
