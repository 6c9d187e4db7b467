import { softmax, softmaxAndEntropy, softmaxEntropy } from './distribution';

/**
 * The sampler chain's softmaxes, computed once: a stage that takes the softmax of its input
 * (top-p, min-p, ...) leaves it here, and the chain's final softmax of what the stages kept reuses
 * its exponentials instead of computing 50,257 of them again. Arrays are the keys (weakly held), so
 * nothing outlives the step that made it.
 */
type Logits = Float64Array;

/** A stage's softmax of its input, with the input's largest logit and the unnormalised exponentials... */
const softmaxOf = new WeakMap<Logits, { max: number; sum: number; exps: Float64Array; probs: Float64Array }>();
/** ...and, for a stage's output that only removes tokens, the array whose logits it keeps. */
const keptFrom = new WeakMap<Logits, Logits>();

/** `probabilities(logits)` of a stage, remembered for the chain (same arithmetic, same bits). */
export function stageProbabilities(logits: Logits): Float64Array {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i] ?? -Infinity);
  const exps = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const l = logits[i] ?? -Infinity;
    if (l === -Infinity) continue;
    const e = Math.exp(l - max);
    exps[i] = e;
    sum += e;
  }
  const probs = new Float64Array(n);
  for (let i = 0; i < n; i++) probs[i] = (exps[i] ?? 0) / sum;
  softmaxOf.set(logits, { max, sum, exps, probs });
  return probs;
}

/** The model's distribution, `softmax(logits, 1)` of the chain's input, and its entropy in bits: a stage's softmax of the same array where there is one. */
export function modelDistribution(logits: Logits): { probs: Float64Array; entropy: number } {
  const own = softmaxOf.get(logits);
  return own ? { probs: own.probs.slice(), entropy: softmaxEntropy(logits, own.probs, own.max, own.sum) } : softmaxAndEntropy(logits, 1, true);
}

/**
 * `probabilities(logits)` for the sampler chain's own arrays, bit for bit: a copy of a stage's softmax
 * of the same array, or, for the output of a stage that removed tokens and kept the largest logit,
 * the exponentials that stage's softmax computed, summed again over the tokens left. Only the chain
 * asks, for arrays no one else holds, so none of them has changed since.
 */
export function chainProbabilities(logits: Logits): Float64Array {
  const own = softmaxOf.get(logits);
  if (own) return own.probs.slice();
  const source = keptFrom.get(logits);
  const known = source ? softmaxOf.get(source) : undefined;
  if (!known) return softmax(logits, 1);
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  let sum = 0;
  // No branch on the kept tokens (a top-p cut of a flat distribution mixes them at random): a removed token adds 0.
  for (let i = 0; i < n; i++) {
    const l = logits[i] ?? -Infinity;
    max = Math.max(max, l);
    const e = l === -Infinity ? 0 : (known.exps[i] ?? 0);
    out[i] = e;
    sum += e;
  }
  if (max !== known.max) return softmax(logits, 1);
  for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) / sum;
  return out;
}

/** Records that `out` keeps some of `logits`' tokens with their logits unchanged (and removes the rest). */
export function kept(out: Logits, logits: Logits): Logits {
  keptFrom.set(out, logits);
  return out;
}
