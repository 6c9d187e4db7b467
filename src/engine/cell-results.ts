import { hookLabel, residualHook } from '../common/hook-names';
import { entropyBits, softmax, topK } from './sampling/distribution';

/**
 * What the cells compute from the engine's numbers, in one place for every host that shows them:
 * the app's cells and store, `ntl predict`, `ntl run`, `ntl context`.
 */

/**
 * The tokens of a prompt that fit the model's context, keeping the last ones: with `reserve`, room is
 * left for that many generated tokens (at least one prompt token is kept). The app's Sample cell,
 * `ntl generate` and `ntl run` all fit a prompt here, so they sample from the same tokens.
 */
export function fitPrompt<T>(ids: readonly T[], context: number, reserve = 0): { ids: T[]; dropped: number } {
  const room = Math.max(1, context - Math.max(0, reserve));
  const dropped = Math.max(0, ids.length - room);
  return { ids: ids.slice(dropped), dropped };
}

export interface PredictToken {
  id: number;
  prob: number;
  logit: number;
}

export interface PredictResult {
  temperature: number;
  /** Entropy in bits of the whole distribution at this temperature. */
  entropy: number;
  /** The `k` most likely tokens, most likely first. */
  top: PredictToken[];
}

/** The Predict cell's numbers: the softmax of the last position's logits at a temperature, its top k and entropy. */
export function predictResult(logits: ArrayLike<number>, k: number, temperature = 1): PredictResult {
  return {
    temperature,
    entropy: entropyBits(softmax(logits, temperature)),
    top: topK(logits, Math.min(k, logits.length), temperature).map((t) => ({ id: t.id, prob: t.prob, logit: t.logit })),
  };
}

/**
 * The name of a residual-stream boundary `d` of `count` (0 the embeddings; the last after the final
 * block): the words for its hook point (`blocks.{d-1}.hook_resid_post`, src/common/hook-names.ts).
 */
export function depthLabel(d: number, count: number): string {
  return hookLabel(residualHook(d, count), count - 1);
}
