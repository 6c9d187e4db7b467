/** Window of rep/ℓ (Welleck et al., 2019): a token counts as a repeat when it is among the 16 before it. */
export const REPETITION_WINDOW = 16;

export interface ColumnMetrics {
  tokens: number;
  /** Mean natural log-probability of the chosen tokens under the model (temperature 1). */
  meanLogProb: number | null;
  /** exp(−meanLogProb). */
  perplexity: number | null;
  /** Mean entropy (bits) of the model's distribution per step. */
  meanEntropy: number | null;
  /** Distinct tokens / tokens. */
  distinct1: number | null;
  /** Distinct adjacent pairs / pairs. */
  distinct2: number | null;
  /** Share of generated tokens already among the 16 tokens before them (prompt included). */
  repetitionRate: number | null;
  tokensPerSecond: number | null;
}

/** Metrics of one generated column; `null` where there are too few tokens to say. */
export function columnMetrics(promptIds: readonly number[], steps: readonly { id: number; prob: number; entropy?: number }[], elapsedMs: number): ColumnMetrics {
  const n = steps.length;
  const ids = steps.map((s) => s.id);
  const mean = (values: number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
  const meanLogProb = mean(steps.map((s) => Math.log(s.prob)));
  const entropies = steps.flatMap((s) => (s.entropy === undefined ? [] : [s.entropy]));
  const pairs = new Set(ids.slice(1).map((id, i) => `${ids[i] ?? -1},${id}`));
  const all = [...promptIds, ...ids];
  let repeats = 0;
  for (let i = promptIds.length; i < all.length; i++) {
    if (all.slice(Math.max(0, i - REPETITION_WINDOW), i).includes(all[i] ?? -1)) repeats++;
  }
  return {
    tokens: n,
    meanLogProb,
    perplexity: meanLogProb === null ? null : Math.exp(-meanLogProb),
    meanEntropy: mean(entropies),
    distinct1: n === 0 ? null : new Set(ids).size / n,
    distinct2: n < 2 ? null : pairs.size / (n - 1),
    repetitionRate: n === 0 ? null : repeats / n,
    tokensPerSecond: n === 0 || !(elapsedMs > 0) ? null : n / (elapsedMs / 1000),
  };
}
