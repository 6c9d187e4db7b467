import { z } from 'zod';
import type { SeededRandom } from '../rng';
import { rankOrder, softmax } from './distribution';

/**
 * Decoding strategies. Order of the pipeline: temperature, then top-k, then top-p; each filter
 * keeps at least the most likely token.
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

export interface FilteredDistribution {
  /** Probabilities after temperature and before filtering. */
  probs: Float64Array;
  /** Renormalised probabilities of the kept tokens (zero elsewhere). */
  filtered: Float64Array;
  kept: number;
}

/** Applies a strategy's temperature and filters to logits. */
export function filterDistribution(logits: ArrayLike<number>, strategy: SamplingStrategy): FilteredDistribution {
  const temperature = strategy.strategy === 'greedy' ? 1 : strategy.temperature;
  const probs = softmax(logits, temperature);
  const order = rankOrder(probs);
  let keep: number;
  switch (strategy.strategy) {
    case 'greedy':
      keep = 1;
      break;
    case 'temperature':
      keep = order.length;
      break;
    case 'top-k':
      keep = Math.min(strategy.topK, order.length);
      break;
    case 'top-p': {
      let cumulative = 0;
      keep = 0;
      for (const id of order) {
        cumulative += probs[id] ?? 0;
        keep++;
        if (cumulative >= strategy.topP - 1e-12) break;
      }
      break;
    }
  }
  keep = Math.max(1, keep);
  const filtered = new Float64Array(probs.length);
  let mass = 0;
  for (let i = 0; i < keep; i++) mass += probs[order[i] ?? 0] ?? 0;
  for (let i = 0; i < keep; i++) {
    const id = order[i] ?? 0;
    filtered[id] = (probs[id] ?? 0) / mass;
  }
  return { probs, filtered, kept: keep };
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

/** Picks the next token with a strategy and a seeded generator. */
export function sampleToken(logits: ArrayLike<number>, strategy: SamplingStrategy, rng: SeededRandom): SampledToken {
  const { filtered, kept } = filterDistribution(logits, strategy);
  let id = -1;
  if (strategy.strategy === 'greedy') {
    id = filtered.findIndex((p) => p > 0);
  } else {
    const u = rng.next();
    let cumulative = 0;
    let last = -1;
    for (let i = 0; i < filtered.length; i++) {
      const p = filtered[i] ?? 0;
      if (p <= 0) continue;
      last = i;
      cumulative += p;
      if (u < cumulative) {
        id = i;
        break;
      }
    }
    if (id < 0) id = last;
  }
  const model = softmax(logits, 1);
  const chosen = model[id] ?? 0;
  let rank = 1;
  for (let i = 0; i < model.length; i++) {
    const p = model[i] ?? 0;
    if (p > chosen || (p === chosen && i < id)) rank++;
  }
  return { id, prob: chosen, rank, sampledProb: filtered[id] ?? 0, kept };
}
