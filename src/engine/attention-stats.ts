/**
 * Statistics of attention weights, computed from the weights alone. A layer's weights are laid out
 * as the engine returns them: `[head][query][key]`, row-major, `seqLen` × `seqLen` per head.
 */

/** A head is given a label when the mean weight its rule measures reaches this. */
export const LABEL_THRESHOLD = 0.5;

export type HeadLabel = 'previous-token' | 'first-token sink' | 'self';

/** Each label and the rule that gives it, as the UI shows it. */
export const HEAD_LABEL_RULES: readonly { label: HeadLabel; rule: string }[] = [
  { label: 'previous-token', rule: `mean weight on the previous position (i−1) ≥ ${LABEL_THRESHOLD}` },
  { label: 'first-token sink', rule: `mean weight on position 0 ≥ ${LABEL_THRESHOLD}` },
  { label: 'self', rule: `mean weight on its own position (the diagonal) ≥ ${LABEL_THRESHOLD}` },
];

export interface HeadStats {
  layer: number;
  head: number;
  /** Query positions averaged over: 1 … n−1 (position 0 can only attend to itself); with none, the means are NaN. */
  queries: number;
  /** Mean over those queries of the row's entropy, in bits. */
  entropyBits: number;
  /** Mean over those queries of the entropy divided by log2(visible keys): 0 one key, 1 uniform. */
  entropyNormalised: number;
  /** Mean weight on the previous position. */
  previous: number;
  /** Mean weight on position 0. */
  first: number;
  /** Mean weight on the query's own position. */
  self: number;
  labels: HeadLabel[];
}

/** Shannon entropy of a distribution in bits (0 · log 0 counts as 0). */
export function entropyBits(row: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < row.length; i++) {
    const p = row[i] ?? 0;
    if (p > 0) h -= p * Math.log2(p);
  }
  return h;
}

/** The statistics of one head of one layer. */
export function headStats(layerData: ArrayLike<number>, seqLen: number, layer: number, head: number): HeadStats {
  const n = seqLen;
  const at = (q: number, k: number): number => layerData[(head * n + q) * n + k] ?? 0;
  let entropy = 0;
  let normalised = 0;
  let previous = 0;
  let first = 0;
  let self = 0;
  for (let q = 1; q < n; q++) {
    const row = Array.from({ length: q + 1 }, (_, k) => at(q, k));
    const h = entropyBits(row);
    entropy += h;
    normalised += h / Math.log2(q + 1);
    previous += at(q, q - 1);
    first += at(q, 0);
    self += at(q, q);
  }
  const queries = Math.max(0, n - 1);
  const mean = (sum: number): number => (queries > 0 ? sum / queries : NaN);
  const stats = { layer, head, queries, entropyBits: mean(entropy), entropyNormalised: mean(normalised), previous: mean(previous), first: mean(first), self: mean(self) };
  const labels: HeadLabel[] = [];
  if (stats.previous >= LABEL_THRESHOLD) labels.push('previous-token');
  if (stats.first >= LABEL_THRESHOLD) labels.push('first-token sink');
  if (stats.self >= LABEL_THRESHOLD) labels.push('self');
  return { ...stats, labels };
}

/** The statistics of every head of every layer, layer by layer. */
export function allHeadStats(layers: readonly ArrayLike<number>[], heads: number, seqLen: number): HeadStats[] {
  return layers.flatMap((data, layer) => Array.from({ length: heads }, (_, head) => headStats(data, seqLen, layer, head)));
}

/** The layer's attention averaged over its heads, as `[query][key]`. */
export function headAverage(layerData: ArrayLike<number>, heads: number, seqLen: number): number[][] {
  const n = seqLen;
  return Array.from({ length: n }, (_, q) =>
    Array.from({ length: n }, (__, k) => {
      let s = 0;
      for (let h = 0; h < heads; h++) s += layerData[(h * n + q) * n + k] ?? 0;
      return s / heads;
    }),
  );
}

/**
 * Attention rollout (Abnar & Zuidema 2020): per layer, average the heads, add the identity for the
 * residual connection and renormalise the rows; then multiply the layers, the last on the left.
 * Row q of the result says how much each input position reaches position q through every layer;
 * every row sums to 1.
 */
export function attentionRollout(layers: readonly ArrayLike<number>[], heads: number, seqLen: number): number[][] {
  const n = seqLen;
  let rollout: number[][] = Array.from({ length: n }, (_, q) => Array.from({ length: n }, (__, k) => (q === k ? 1 : 0)));
  for (const data of layers) {
    const avg = headAverage(data, heads, n).map((row, q) => {
      const withSelf = row.map((w, k) => w + (q === k ? 1 : 0));
      const sum = withSelf.reduce((a, b) => a + b, 0);
      return withSelf.map((w) => w / sum);
    });
    rollout = avg.map((row) => Array.from({ length: n }, (_, k) => row.reduce((s, w, j) => s + w * (rollout[j]?.[k] ?? 0), 0)));
  }
  return rollout;
}

/**
 * One row of the rollout: how much each input position reaches `position`. Equal to row
 * `position` of `attentionRollout`, in O(layers · n²) rather than O(layers · n³): the row
 * vector is multiplied through the layers from the last one down.
 */
export function attentionRolloutRow(layers: readonly ArrayLike<number>[], heads: number, seqLen: number, position: number): number[] {
  const n = seqLen;
  let row: number[] = Array.from({ length: n }, (_, k) => (k === position ? 1 : 0));
  for (let l = layers.length - 1; l >= 0; l--) {
    const data = layers[l] ?? [];
    const next = new Array<number>(n).fill(0);
    for (let q = 0; q < n; q++) {
      const r = row[q] ?? 0;
      if (r === 0) continue;
      // Row q of (head average + identity), renormalised; its sum is 2 when the rows sum to 1.
      const avg = Array.from({ length: n }, (_, k) => {
        let sum = 0;
        for (let h = 0; h < heads; h++) sum += data[(h * n + q) * n + k] ?? 0;
        return sum / heads + (q === k ? 1 : 0);
      });
      const total = avg.reduce((a, b) => a + b, 0);
      avg.forEach((w, k) => (next[k] = (next[k] ?? 0) + (r * w) / total));
    }
    row = next;
  }
  return row;
}

