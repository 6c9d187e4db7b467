import { z } from 'zod';
import type { SeededRandom } from '../rng';
import { applyChain } from './chain';
import { softmax } from './distribution';
import { SamplerSettings, type SamplerKnobs, type SamplerSettingsInput } from './settings';

/**
 * The four named strategies of the Sample cell and the notebook format: presets of the sampler
 * chain (see `presetSettings` and docs/sampling.md). Each filter keeps at least the most likely token.
 * - greedy: always the most likely token.
 * - temperature: sample from softmax(logits / T).
 * - top-k: sample among the k most likely tokens (after temperature), renormalised.
 * - top-p (nucleus): the smallest set of most likely tokens whose probability reaches p, the token
 *   that crosses p included, renormalised.
 */
export const SamplingStrategy = z.discriminatedUnion('strategy', [
  z.object({ strategy: z.literal('greedy') }),
  z.object({
    strategy: z.literal('temperature'),
    temperature: z.number().gt(0, 'temperature must be greater than 0').max(5, 'temperature must be at most 5'),
  }),
  z.object({
    strategy: z.literal('top-k'),
    temperature: z.number().gt(0, 'temperature must be greater than 0').max(5, 'temperature must be at most 5'),
    topK: z.number().int('k must be a whole number').min(1, 'k must be at least 1'),
  }),
  z.object({
    strategy: z.literal('top-p'),
    temperature: z.number().gt(0, 'temperature must be greater than 0').max(5, 'temperature must be at most 5'),
    topP: z.number().gt(0, 'p must be greater than 0').max(1, 'p must be at most 1'),
  }),
]);
export type SamplingStrategy = z.infer<typeof SamplingStrategy>;
export type StrategyName = SamplingStrategy['strategy'];

/** The chain settings a preset stands for, before defaults. */
export function presetInput(strategy: SamplingStrategy): SamplerSettingsInput {
  switch (strategy.strategy) {
    case 'greedy':
      return { greedy: true };
    case 'temperature':
      return { temperature: strategy.temperature };
    case 'top-k':
      return { temperature: strategy.temperature, topK: strategy.topK };
    case 'top-p':
      return { temperature: strategy.temperature, topP: strategy.topP };
  }
}

/**
 * The sampler settings a preset stands for (the chain's default order applies), with the knobs a
 * Sample cell adds. Throws the schema's error when the knobs do not fit (a stage left out of the order).
 */
export function presetSettings(strategy: SamplingStrategy, knobs: SamplerKnobs = {}): SamplerSettings {
  return SamplerSettings.parse({ ...presetInput(strategy), ...knobs });
}

/** A preset or full sampler settings: what generation takes. */
export type Sampling = SamplingStrategy | SamplerSettings;

export function resolveSampling(sampling: Sampling): SamplerSettings {
  return 'strategy' in sampling ? presetSettings(sampling) : sampling;
}

export interface FilteredDistribution {
  /** Probabilities after temperature and before filtering. */
  probs: Float64Array;
  /** Renormalised probabilities of the kept tokens (zero elsewhere). */
  filtered: Float64Array;
  kept: number;
}

/** Applies a strategy's temperature and filters to logits (no penalties: there is no history). */
export function filterDistribution(logits: ArrayLike<number>, strategy: SamplingStrategy): FilteredDistribution {
  const temperature = strategy.strategy === 'greedy' ? 1 : strategy.temperature;
  const { filtered, kept } = applyChain(logits, [], presetSettings(strategy), { rng: 0, mu: null });
  return { probs: softmax(logits, temperature), filtered, kept };
}

export interface SampledToken {
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
export function sampleToken(logits: ArrayLike<number>, strategy: SamplingStrategy, rng: SeededRandom): SampledToken {
  const result = applyChain(logits, [], presetSettings(strategy), { rng: rng.snapshot, mu: null });
  rng.restore(result.state.rng);
  return { id: result.id, prob: result.prob, rank: result.rank, sampledProb: result.sampledProb, kept: result.kept };
}
