import { softmax } from './sampling/distribution';

/** One prompt token as the model saw it coming: its probability and rank given the tokens before it. */
export interface SurprisalToken {
  position: number;
  id: number;
  /** Probability under the model at temperature 1; null for the first token, which nothing predicts. */
  prob: number | null;
  /** Natural log of `prob`. */
  logprob: number | null;
  /** Surprisal in bits, −log2(prob). */
  bits: number | null;
  /** 1-based rank among the whole vocabulary (by logit; ties: lower id first). */
  rank: number | null;
}

/** The 1-based rank of `id` in one row of logits (by logit; ties: lower id first, as the sampler ranks). */
export function rankInRow(row: ArrayLike<number>, id: number): number {
  const target = row[id] ?? -Infinity;
  let rank = 1;
  for (let i = 0; i < row.length; i++) {
    const v = row[i] ?? -Infinity;
    if (v > target || (v === target && i < id)) rank++;
  }
  return rank;
}

/**
 * Every prompt token's probability and rank from the logits at every position (row-major
 * [position][vocab], one pass): row i − 1 predicts token i.
 */
export function promptSurprisal(ids: readonly number[], logits: Float32Array, vocab: number): SurprisalToken[] {
  return ids.map((id, position) => {
    if (position === 0) return { position, id, prob: null, logprob: null, bits: null, rank: null };
    const row = logits.subarray((position - 1) * vocab, position * vocab);
    const prob = softmax(row)[id] ?? 0;
    return { position, id, prob, logprob: Math.log(prob), bits: -Math.log2(prob), rank: rankInRow(row, id) };
  });
}
