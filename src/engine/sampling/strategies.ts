import type { SeededRandom } from '../rng';
import { applyChain } from './chain';
import { softmax } from './distribution';
import { presetSettings, type SamplingStrategy } from '../../common/sampling-strategy';

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
