import type { LensParams } from './onnx-graph';

export interface LensCell {
  id: number;
  prob: number;
}

/** Logits of one residual-stream vector after the final norm and the unembedding. */
export function lensLogits(params: LensParams, x: ArrayLike<number>): Float32Array {
  const { hidden, vocab, gamma, beta, epsilon, unembedding, bias } = params;
  let mean = 0;
  if (params.norm === 'layer') {
    for (let i = 0; i < hidden; i++) mean += x[i] ?? 0;
    mean /= hidden;
  }
  let variance = 0;
  for (let i = 0; i < hidden; i++) variance += ((x[i] ?? 0) - mean) ** 2;
  variance /= hidden;
  const scale = 1 / Math.sqrt(variance + epsilon);
  const normed = new Float32Array(hidden);
  for (let i = 0; i < hidden; i++) normed[i] = ((x[i] ?? 0) - mean) * scale * (gamma[i] ?? 1) + (beta?.[i] ?? 0);
  const logits = bias ? Float32Array.from(bias) : new Float32Array(vocab);
  for (let h = 0; h < hidden; h++) {
    const v = normed[h] ?? 0;
    if (v === 0) continue;
    const row = h * vocab;
    for (let t = 0; t < vocab; t++) logits[t] = (logits[t] ?? 0) + v * (unembedding[row + t] ?? 0);
  }
  return logits;
}

/**
 * The logit lens: the final norm and unembedding applied to the residual stream entering every block
 * (and the final norm), giving each depth's top-1 token and its probability at every position.
 * `streams[b]` is row-major [position][hidden].
 */
export function logitLens(params: LensParams, streams: readonly Float32Array[], positions: number): LensCell[][] {
  return streams.map((stream) =>
    Array.from({ length: positions }, (_, p) => {
      const logits = lensLogits(params, stream.subarray(p * params.hidden, (p + 1) * params.hidden));
      let best = 0;
      let max = -Infinity;
      for (let i = 0; i < logits.length; i++) {
        const v = logits[i] ?? -Infinity;
        if (v > max) {
          max = v;
          best = i;
        }
      }
      let sum = 0;
      for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] ?? -Infinity) - max);
      return { id: best, prob: 1 / sum };
    }),
  );
}
