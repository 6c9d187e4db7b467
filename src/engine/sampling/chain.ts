import { SeededRandom } from '../rng';
import { chainProbabilities, modelDistribution } from './stage-softmax';
import {
  applyDry,
  applyPenalties,
  applyTemperature,
  epsilonFilter,
  etaFilter,
  lastTokens,
  minPFilter,
  mirostatFilter,
  mostLikely,
  topKFilter,
  topNSigmaFilter,
  topPFilter,
  typicalFilter,
  xtcFilter,
  type Logits,
} from './filters';
import type { SamplerSettings, StageName } from '../../common/sampler-settings';

/**
 * What a sampler carries from one step to the next. Plain numbers, so a run can be saved and
 * resumed step by step exactly.
 */
export interface SamplerState {
  /** The seeded generator's state. */
  rng: number;
  /** Mirostat v2's target surprise bound, or null when Mirostat is off. */
  mu: number | null;
}

export interface ChainResult {
  /** The model's distribution: softmax of the raw logits at temperature 1. */
  probs: Float64Array;
  /** The distribution drawn from, after every stage (zero for cut tokens); with `greedy`, all on the chosen token. */
  filtered: Float64Array;
  /** Tokens with a non-zero probability in `filtered`. */
  kept: number;
  id: number;
  /** Entropy in bits of `probs`. */
  entropy: number;
  /** Probability of the chosen token under the model (`probs`). */
  prob: number;
  /** 1-based rank of the chosen token under the model (by raw logit; ties: lower id first). */
  rank: number;
  /** Probability of the chosen token in `filtered`. */
  sampledProb: number;
  state: SamplerState;
}

export interface ChainContext {
  /** Whether a token breaks DRY's sequences (its text contains a sequence breaker). */
  isBreaker?: (id: number) => boolean;
}

function stage(name: StageName, logits: Logits, history: readonly number[], s: SamplerSettings, rng: SeededRandom, mu: number | null, context: ChainContext): Logits {
  switch (name) {
    case 'penalties':
      if (s.repetitionPenalty === undefined && s.frequencyPenalty === undefined && s.presencePenalty === undefined) return logits;
      return applyPenalties(logits, lastTokens(history, s.penaltyLastN), s.repetitionPenalty, s.frequencyPenalty, s.presencePenalty);
    case 'dry':
      if (s.dryMultiplier === undefined) return logits;
      return applyDry(logits, lastTokens(history, s.dryLastN), { multiplier: s.dryMultiplier, base: s.dryBase, allowedLength: s.dryAllowedLength }, context.isBreaker);
    case 'temperature':
      // Dividing by 1 changes no bit: the next stage's softmax is then the model's own, computed once.
      return s.temperature === undefined || s.temperature === 1 ? logits : applyTemperature(logits, s.temperature);
    case 'top-k':
      return s.topK === undefined ? logits : topKFilter(logits, s.topK);
    case 'top-p':
      return s.topP === undefined ? logits : topPFilter(logits, s.topP);
    case 'min-p':
      return s.minP === undefined ? logits : minPFilter(logits, s.minP);
    case 'typical':
      return s.typicalP === undefined ? logits : typicalFilter(logits, s.typicalP);
    case 'top-n-sigma':
      return s.topNSigma === undefined ? logits : topNSigmaFilter(logits, s.topNSigma);
    case 'xtc':
      // One draw whenever XTC can fire, whatever the distribution: the draws stay aligned across runs.
      if (s.xtcProbability === undefined || s.xtcProbability <= 0) return logits;
      return rng.next() < s.xtcProbability ? xtcFilter(logits, s.xtcThreshold) : logits;
    case 'epsilon':
      return s.epsilonCutoff === undefined ? logits : epsilonFilter(logits, s.epsilonCutoff);
    case 'eta':
      return s.etaCutoff === undefined ? logits : etaFilter(logits, s.etaCutoff);
    case 'mirostat':
      return s.mirostatTau === undefined || mu === null ? logits : mirostatFilter(logits, mu);
  }
}

/**
 * Draws an id from `probs` with one number from the generator, walking ids in index order. A token
 * of probability 0 adds nothing, so it is never where the sum first passes `u` (at least 0): no
 * branch skips it. Past the end (rounding), the last token with a probability.
 */
export function draw(probs: Float64Array, u: number): number {
  let cumulative = 0;
  for (let i = 0; i < probs.length; i++) {
    cumulative += probs[i] ?? 0;
    if (u < cumulative) return i;
  }
  let last = probs.length - 1;
  while (last >= 0 && (probs[last] ?? 0) <= 0) last--;
  return last;
}

/** Tokens with a non-zero probability, counted without a branch per token (kept and cut tokens alternate at random). */
function countKept(probs: Float64Array): number {
  let kept = 0;
  for (let i = 0; i < probs.length; i++) kept += Number((probs[i] ?? 0) > 0);
  return kept;
}

/**
 * One step of the sampler chain: the stages of `settings.order` in turn, then a draw (or the most
 * likely token with `greedy`). Pure: the same inputs give the same result and the new state.
 * `history` is every token so far (prompt and generated), oldest first.
 */
export function applyChain(logits: ArrayLike<number>, history: readonly number[], settings: SamplerSettings, state: SamplerState, context: ChainContext = {}): ChainResult {
  const rng = SeededRandom.resume(state.rng);
  const mu = settings.mirostatTau === undefined ? null : (state.mu ?? 2 * settings.mirostatTau);
  const initial: Logits = Float64Array.from(logits);
  let working = initial;
  for (const name of settings.order) working = stage(name, working, history, settings, rng, mu, context);
  // The model's distribution: the logits' own softmax (the same numbers as `softmax(logits, 1)`).
  const { probs, entropy } = modelDistribution(initial);
  const drawn = working === initial ? probs : chainProbabilities(working);
  // `filtered` is an array of its own (a host may transfer both): greedy's is all on the chosen token.
  let id: number;
  let filtered: Float64Array;
  let kept: number;
  if (settings.greedy) {
    id = Math.max(0, mostLikely(working));
    filtered = new Float64Array(drawn.length);
    filtered[id] = 1;
    kept = 1;
  } else {
    filtered = drawn === probs ? probs.slice() : drawn;
    id = draw(filtered, rng.next());
    kept = countKept(filtered);
  }
  const surprise = -Math.log2(drawn[id] ?? 0);
  const sampledProb = filtered[id] ?? 0;
  const prob = probs[id] ?? 0;
  // Ranked by logit, so that two logits too close to differ in probability still rank apart.
  const logit = logits[id] ?? -Infinity;
  // Counted without a branch per token: before the chosen id, ties rank ahead of it; after it, behind.
  let rank = 1;
  for (let i = 0; i < id; i++) rank += Number((logits[i] ?? -Infinity) >= logit);
  for (let i = id + 1; i < logits.length; i++) rank += Number((logits[i] ?? -Infinity) > logit);
  // Mirostat v2: move mu towards the target surprise tau by the observed surprise of the choice.
  const nextMu = mu === null || settings.mirostatTau === undefined ? null : mu - settings.mirostatEta * (surprise - settings.mirostatTau);
  return { probs, entropy, filtered, kept, id, prob, rank, sampledProb, state: { rng: rng.snapshot, mu: nextMu } };
}
