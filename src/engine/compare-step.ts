import { generationStep, type GenerationState, type GenerationStep, type StepOptions } from './generate';
import type { EngineModel } from './contract';
import type { ChainResult } from './sampling/chain';
import { topOrder } from './sampling/filters';
import type { Sampling } from '../common/sampling-strategy';

/** How many of the most likely tokens a comparison keeps per step. */
export const ALTERNATIVES = 10;

/** One of the most likely tokens at a step, as the Compare cell shows and forks from it. */
export interface Alternative {
  id: number;
  token: string;
  display: string;
  /** Probability under the model (temperature 1, before any stage). */
  prob: number;
  /** Probability in the distribution drawn from (zero when cut). */
  filtered: number;
  /** 1-based rank under the model. */
  rank: number;
  /** Whether the sampler chain left it a chance. */
  kept: boolean;
}

/** What a comparison keeps of each step beyond `GenerationStep`: enough to show it and fork from it. */
export interface StepDetail {
  alternatives: Alternative[];
  /** The sampler state after the step: a fork at this step continues from it. */
  rngState: number;
  mu: number | null;
  /** Time the step took in the engine. */
  ms: number;
}

/**
 * The `n` most likely tokens of a step with their fate in the chain; the chosen token is added
 * at the end when it is not among them (a draw from far down the distribution).
 */
export function topAlternatives(
  chain: Pick<ChainResult, 'probs' | 'filtered' | 'id'>,
  piece: (id: number) => { text: string; display: string },
  n = ALTERNATIVES,
): Alternative[] {
  const { probs } = chain;
  // `rankOrder(probs).slice(0, n)` without sorting the vocabulary at every step.
  const ids = n > 0 ? topOrder(probs, n) : [];
  // A rank in that order: the tokens more likely, or as likely with a lower id, come first.
  const rankOf = (id: number): number => {
    const p = probs[id] ?? 0;
    let rank = 1;
    for (let j = 0; j < probs.length; j++) if ((probs[j] ?? 0) > p || (probs[j] === p && j < id)) rank++;
    return rank;
  };
  const top = ids.length;
  if (!ids.includes(chain.id)) ids.push(chain.id);
  return ids.map((id, k) => {
    const p = piece(id);
    const filtered = chain.filtered[id] ?? 0;
    return { id, token: p.text, display: p.display, prob: probs[id] ?? 0, filtered, rank: k < top ? k + 1 : rankOf(id), kept: filtered > 0 };
  });
}

/**
 * Builds the state of a column forked from `steps`/`details` at step `index` (0-based): the tokens
 * before it, then `alternative` instead of the token chosen there. The fork's generator resumes from
 * the state after that step, so its later draws are the ones the original column would have made.
 */
export function forkState(
  promptIds: readonly number[],
  steps: readonly GenerationStep[],
  details: readonly StepDetail[],
  index: number,
  alternative: Alternative,
): { state: GenerationState; details: StepDetail[] } {
  const at = steps[index];
  const detail = details[index];
  if (!at || !detail) throw new Error(`there is no step ${index + 1} to fork from`);
  const kept = steps.slice(0, index);
  const step: GenerationStep = { id: alternative.id, token: alternative.token, display: alternative.display, prob: alternative.prob, rank: alternative.rank, kept: at.kept, entropy: at.entropy };
  return {
    state: {
      ids: [...promptIds, ...kept.map((s) => s.id), alternative.id],
      steps: [...kept, step],
      rngState: detail.rngState,
      mu: detail.mu,
      stopReason: null,
    },
    details: [...details.slice(0, index), { ...detail, ms: 0 }],
  };
}

/**
 * One step of one column: `generationStep` (so the tokens are those of `ntl generate` with the same
 * settings and seed) plus the step's most likely tokens before and after filtering.
 */
export async function compareStep(
  model: EngineModel,
  state: GenerationState,
  sampling: Sampling,
  options: Omit<StepOptions, 'onChain'> = {},
): Promise<{ state: GenerationState; detail: StepDetail | null }> {
  const started = typeof performance !== 'undefined' ? performance.now() : Date.now();
  const chains: ChainResult[] = [];
  const next = await generationStep(model, state, sampling, { ...options, onChain: (result) => chains.push(result) });
  const seen = chains[0];
  // No chain ran: the context was already full.
  if (seen === undefined) return { state: next, detail: null };
  const ms = (typeof performance !== 'undefined' ? performance.now() : Date.now()) - started;
  return { state: next, detail: { alternatives: topAlternatives(seen, (id) => model.tokenizer.piece(id)), rngState: next.rngState, mu: next.mu ?? null, ms } };
}

export interface BatchItem {
  state: GenerationState;
  sampling: Sampling;
  stop?: string;
}

/**
 * One step of several columns together: columns whose sequences have the same length share one
 * batched forward pass (when the graph has a dynamic batch dimension), then each column's sampler
 * chain picks its token. Tokens and generator states are exactly those of `compareStep` one column
 * at a time. A column's `ms` is its share of the batch's forward pass plus its own chain.
 */
export async function compareStepBatch(model: EngineModel, items: readonly BatchItem[]): Promise<{ state: GenerationState; detail: StepDetail | null }[]> {
  const results: ({ state: GenerationState; detail: StepDetail | null } | undefined)[] = items.map(() => undefined);
  const groups = new Map<number, number[]>();
  items.forEach((item, i) => {
    const n = item.state.ids.length;
    const stepping = item.state.stopReason === null && n < model.config.context;
    if (!stepping || !model.isBatchable) return;
    groups.set(n, [...(groups.get(n) ?? []), i]);
  });
  for (const members of groups.values()) {
    // On the cache graph each column continues its own cache; without one the sequences are recomputed.
    const rows = members.map((i) => items[i]?.state.ids ?? []);
    const { lastLogits, forwardMs } = await (model.hasCache ? model.nextLogitsBatch(rows) : model.forwardBatch(rows));
    for (const [k, i] of members.entries()) {
      const item = items[i];
      if (!item) continue;
      const result = await compareStep(model, item.state, item.sampling, { stop: item.stop, logits: lastLogits[k] });
      if (result.detail) result.detail = { ...result.detail, ms: result.detail.ms + forwardMs / members.length };
      results[i] = result;
    }
  }
  // Whatever was not batched (stopped, a full context, or a graph of batch size 1) steps alone, in
  // turn: one session runs one pass at a time.
  const out: { state: GenerationState; detail: StepDetail | null }[] = [];
  for (const [i, item] of items.entries()) out.push(results[i] ?? (await compareStep(model, item.state, item.sampling, { stop: item.stop })));
  return out;
}
