/** Softmax of `logits / temperature`, computed in float64 for stable sums. Temperature must be > 0. */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  return softmaxAndEntropy(logits, temperature, false).probs;
}

/**
 * `softmax(logits, temperature)` and, with `withEntropy`, its entropy in bits from the softmax's own
 * terms (`softmaxEntropy`), in place of a logarithm per token (50,257 for GPT-2, a quarter of a top-p
 * step, issue 18).
 */
export function softmaxAndEntropy(logits: ArrayLike<number>, temperature: number, withEntropy: boolean): { probs: Float64Array; entropy: number } {
  if (!(temperature > 0)) throw new Error(`temperature must be greater than 0 (got ${temperature})`);
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i] ?? -Infinity);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const l = logits[i] ?? -Infinity;
    // A removed token (-Infinity) is exp(-Infinity) = 0: left as the array's 0, which adds nothing to the sum.
    if (l === -Infinity) continue;
    const e = Math.exp((l - max) / temperature);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) / sum;
  return { probs: out, entropy: withEntropy ? softmaxEntropy(logits, out, max, sum, temperature) : 0 };
}

/**
 * The entropy in bits of a softmax already computed, from its terms: `probs` of `logits / temperature`,
 * whose largest logit is `max` and whose exponentials sum to `sum`. H = ln Z − Σ pᵢ·xᵢ with
 * xᵢ = (lᵢ − max) / T ≤ 0 and Z = Σ exp(xᵢ) ≥ 1: two sums of terms ≥ 0, so nothing cancels. It equals
 * `entropyBits` of the same probabilities to within a few units in the last place.
 */
export function softmaxEntropy(logits: ArrayLike<number>, probs: ArrayLike<number>, max: number, sum: number, temperature = 1): number {
  // Σ pᵢ·xᵢ, over the tokens of probability > 0 (a removed token's xᵢ is -Infinity).
  let weighted = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] ?? 0;
    if (p > 0) weighted += p * (((logits[i] ?? 0) - max) / temperature);
  }
  return (Math.log(sum) - weighted) / Math.LN2;
}

/** Shannon entropy in bits. */
export function entropyBits(probs: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] ?? 0;
    if (p > 0) h -= p * Math.log2(p);
  }
  return h;
}

/** Token ids ordered by descending probability; ties keep the lower id first. */
export function rankOrder(probs: ArrayLike<number>): number[] {
  const ids = Array.from({ length: probs.length }, (_, i) => i);
  return ids.sort((a, b) => (probs[b] ?? 0) - (probs[a] ?? 0) || a - b);
}

export interface RankedToken {
  id: number;
  prob: number;
  logit: number;
}

/** The k most likely tokens with probability and logit. */
export function topK(logits: ArrayLike<number>, k: number, temperature = 1): RankedToken[] {
  const probs = softmax(logits, temperature);
  return rankOrder(probs)
    .slice(0, Math.max(0, k))
    .map((id) => ({ id, prob: probs[id] ?? 0, logit: logits[id] ?? 0 }));
}
