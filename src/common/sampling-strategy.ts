import { z } from 'zod';
import { SamplerSettings, type SamplerKnobs, type SamplerSettingsInput } from './sampler-settings';

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
