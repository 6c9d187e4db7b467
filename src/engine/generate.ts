import { SeededRandom } from './rng';
import type { EngineModel } from './contract';
import { applyChain, type ChainResult } from './sampling/chain';
import { resolveSampling, type Sampling } from '../common/sampling-strategy';

export interface GenerationStep {
  id: number;
  token: string;
  display: string;
  /** Probability under the model at temperature 1. */
  prob: number;
  /** 1-based rank under the model. */
  rank: number;
  /** Tokens left with a non-zero probability after the sampler chain. */
  kept: number;
  /** Entropy in bits of the model's distribution (temperature 1, before any stage). */
  entropy: number;
}

export type StopReason = 'max-tokens' | 'end-of-text' | 'context-full' | 'cancelled' | 'stop-string';

export interface GenerationState {
  ids: number[];
  steps: GenerationStep[];
  /** State of the seeded generator after the last step: resume from here for the next one. */
  rngState: number;
  /** Mirostat v2's mu after the last step; absent or null until Mirostat has run. */
  mu?: number | null;
  stopReason: StopReason | null;
}

export interface StepOptions {
  /** Generation stops once the generated text contains this string (the completing token is kept). */
  stop?: string;
  /** Sees the sampler chain's full result (the distribution before and after filtering) of the step. */
  onChain?: (result: ChainResult) => void;
  /** Next-token logits for `state.ids` already computed (by a batched pass): no forward pass is run. */
  logits?: Float32Array;
}

const breakerCache = new WeakMap<EngineModel, Map<string, Set<number>>>();

/** Ids of the tokens whose text contains one of DRY's sequence breakers. */
export function breakerIds(model: EngineModel, breakers: readonly string[]): Set<number> {
  const key = JSON.stringify(breakers);
  let byKey = breakerCache.get(model);
  if (!byKey) breakerCache.set(model, (byKey = new Map()));
  let ids = byKey.get(key);
  if (!ids) {
    ids = new Set();
    for (let id = 0; id < model.tokenizer.info.vocabSize; id++) {
      const text = model.tokenizer.piece(id).text;
      if (breakers.some((b) => text.includes(b))) ids.add(id);
    }
    byKey.set(key, ids);
  }
  return ids;
}

/** One turn of the loop: run the model on the sequence, pick a token, append it. */
export async function generationStep(model: EngineModel, state: GenerationState, sampling: Sampling, options: StepOptions = {}): Promise<GenerationState> {
  if (state.ids.length >= model.config.context) {
    return { ...state, stopReason: 'context-full' };
  }
  const settings = resolveSampling(sampling);
  const logits = options.logits ?? (await model.nextLogits(state.ids));
  const breakers = settings.dryMultiplier !== undefined ? breakerIds(model, settings.drySequenceBreakers) : null;
  const chosen = applyChain(logits, state.ids, settings, { rng: state.rngState, mu: state.mu ?? null }, { isBreaker: (id) => breakers?.has(id) ?? false });
  options.onChain?.(chosen);
  const piece = model.tokenizer.piece(chosen.id);
  const step: GenerationStep = {
    id: chosen.id,
    token: piece.text,
    display: piece.display,
    prob: chosen.prob,
    rank: chosen.rank,
    kept: chosen.kept,
    entropy: chosen.entropy,
  };
  const steps = [...state.steps, step];
  const ended = model.tokenizer.info.eosId !== null && chosen.id === model.tokenizer.info.eosId;
  const stopped = options.stop !== undefined && options.stop !== '' && steps.map((s) => s.token).join('').includes(options.stop);
  return {
    ids: [...state.ids, chosen.id],
    steps,
    rngState: chosen.state.rng,
    mu: chosen.state.mu,
    stopReason: ended ? 'end-of-text' : stopped ? 'stop-string' : null,
  };
}

export interface ContinueOptions {
  stop?: string;
  /** Asked before each step: a cancelled run stops with `cancelled`. */
  isCancelled?: () => boolean;
  /** Sees each step's state (the engine reports progress here, and lets a cancel message in). */
  onStep?: (state: GenerationState) => void | Promise<void>;
}

/**
 * The generation loop, the one every host runs: up to `count` more steps from `state`, stopping at
 * end of text, a stop string, a full context or a cancel. The stop reason stays null when the count
 * is reached, so the run can be continued.
 */
export async function continueGeneration(model: EngineModel, state: GenerationState, sampling: Sampling, count: number, options: ContinueOptions = {}): Promise<GenerationState> {
  let current = state;
  for (let i = 0; i < count && current.stopReason === null; i++) {
    if (options.isCancelled?.()) return { ...current, stopReason: 'cancelled' };
    current = await generationStep(model, current, sampling, { stop: options.stop });
    await options.onStep?.(current);
  }
  return current;
}

export interface GenerateOptions extends ContinueOptions {
  /** A preset of the Sample cell or full sampler settings. */
  strategy: Sampling;
  seed: number;
  maxTokens: number;
}

/** Generates up to `maxTokens` tokens after `promptIds`, stopping at end of text, a stop string or a full context. */
export async function generate(model: EngineModel, promptIds: readonly number[], options: GenerateOptions): Promise<GenerationState> {
  const start: GenerationState = { ids: [...promptIds], steps: [], rngState: new SeededRandom(options.seed).snapshot, stopReason: null };
  const state = await continueGeneration(model, start, options.strategy, options.maxTokens, options);
  return state.stopReason === null ? { ...state, stopReason: 'max-tokens' } : state;
}
