import { SeededRandom } from './rng';
import type { EngineModel } from './session';
import { sampleToken, type SamplingStrategy } from './sampling/strategies';

export interface GenerationStep {
  id: number;
  token: string;
  display: string;
  /** Probability under the model at temperature 1. */
  prob: number;
  /** 1-based rank under the model. */
  rank: number;
  kept: number;
}

export type StopReason = 'max-tokens' | 'end-of-text' | 'context-full' | 'cancelled';

export interface GenerationState {
  ids: number[];
  steps: GenerationStep[];
  /** State of the seeded generator after the last step: resume from here for the next one. */
  rngState: number;
  stopReason: StopReason | null;
}

/** Keeps the last `context` tokens; says how many were dropped from the left. */
export function fitToContext(ids: readonly number[], context: number): { ids: number[]; dropped: number } {
  const dropped = Math.max(0, ids.length - context);
  return { ids: ids.slice(dropped), dropped };
}

/** One turn of the loop: run the model on the sequence, pick a token, append it. */
export async function generationStep(model: EngineModel, state: GenerationState, strategy: SamplingStrategy): Promise<GenerationState> {
  if (state.ids.length >= model.config.context) {
    return { ...state, stopReason: 'context-full' };
  }
  const result = await model.forward(state.ids, false);
  const rng = SeededRandom.resume(state.rngState);
  const chosen = sampleToken(result.lastLogits, strategy, rng);
  const piece = model.tokenizer.piece(chosen.id);
  const step: GenerationStep = { id: chosen.id, token: piece.text, display: piece.display, prob: chosen.prob, rank: chosen.rank, kept: chosen.kept };
  const ended = model.tokenizer.info.eosId !== null && chosen.id === model.tokenizer.info.eosId;
  return {
    ids: [...state.ids, chosen.id],
    steps: [...state.steps, step],
    rngState: rng.snapshot,
    stopReason: ended ? 'end-of-text' : null,
  };
}

export interface GenerateOptions {
  strategy: SamplingStrategy;
  seed: number;
  maxTokens: number;
  isCancelled?: () => boolean;
  onStep?: (state: GenerationState) => void;
}

/** Generates up to `maxTokens` tokens after `promptIds`, stopping at end of text or a full context. */
export async function generate(model: EngineModel, promptIds: readonly number[], options: GenerateOptions): Promise<GenerationState> {
  let state: GenerationState = { ids: [...promptIds], steps: [], rngState: new SeededRandom(options.seed).snapshot, stopReason: null };
  while (state.stopReason === null) {
    if (state.steps.length >= options.maxTokens) return { ...state, stopReason: 'max-tokens' };
    if (options.isCancelled?.()) return { ...state, stopReason: 'cancelled' };
    state = await generationStep(model, state, options.strategy);
    options.onStep?.(state);
  }
  return state;
}
