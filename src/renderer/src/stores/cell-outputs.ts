import { markRaw, shallowRef, type Ref, type ShallowRef } from 'vue';
import type { CellKind, CellParams } from '../../../common/cells';
import { presetSettings } from '../../../common/sampling-strategy';
import { fitPrompt } from '../../../engine/cell-results';
import type { GenerationState } from '../../../engine/generate';
import { SeededRandom } from '../../../engine/rng';
import type { TokenPiece } from '../../../engine/tokenizer';
import type { EngineClient } from '../engine/engine-client';
import type { ForwardPayload, GenerateRequest, LoadResult, TokenizeResult } from '../engine/protocol';
import { callGeneration, type GenerationCall } from './generation-call';
import { sameIds } from '../../../common/same-ids';

/** What the notebook's cells read: its prompt and parameters, the loaded model, where progress is told. */
export interface CellInputs {
  engine: EngineClient;
  prompt: Ref<string>;
  params: Ref<CellParams>;
  loaded: ShallowRef<LoadResult | null>;
  progress: Ref<string | null>;
}

/** The cells that show the one forward pass. */
export type ViewKind = 'embed' | 'attend' | 'predict';

/** What a view cell shows: a forward pass and the tokens it read (their labels). */
export interface ShownForward {
  forward: ForwardPayload;
  tokens: TokenizeResult;
}

/**
 * Engine work asked before its cell runs: Run all asks for the forward pass and the generation as
 * soon as the tokens are known, so the engine goes from one to the next while the window shows
 * each result (issue 18), rather than waiting for the window between them.
 */
interface Ahead {
  forward: { ids: number[]; result: Promise<ForwardPayload> } | null;
  /** `key`: the request, as text; a cell that would ask for another one drops it. */
  sample: { key: string; call: GenerationCall } | null;
}

/**
 * What the computed cells computed, outside Vue's deep reactivity (heavy arrays): the tokens, the
 * one forward pass Embed, Attend and Predict share, and the generation; and how each kind computes it.
 */
export function useCellOutputs({ engine, prompt, params, loaded, progress }: CellInputs) {
  const tokens = shallowRef<TokenizeResult | null>(null);
  const forward = shallowRef<ForwardPayload | null>(null);
  const generation = shallowRef<GenerationState | null>(null);
  /**
   * What each view cell shows, set when its own run ends: while it runs again the cell keeps its
   * result (its charts stay and are drawn again in place, not built anew), and the three cells
   * take a new pass one after another, each in a task of its own, not all in one.
   */
  const shown: Record<ViewKind, ShallowRef<ShownForward | null>> = { embed: shallowRef(null), attend: shallowRef(null), predict: shallowRef(null) };
  let activeGeneration: number | null = null;
  let isAheadPlanned = false;
  const ahead: Ahead = { forward: null, sample: null };

  async function runTokenize(): Promise<void> {
    const text = prompt.value;
    if (text.trim().length === 0) throw new Error('The prompt is empty: type some text for the model to read.');
    const result = await engine.call('tokenize', { text }).result;
    if (result.pieces.length === 0) throw new Error('The prompt produced no tokens.');
    // Asked before the tokens are shown: the engine starts at once.
    if (isAheadPlanned) askAhead(result.pieces.map((p) => p.id));
    tokens.value = markRaw(result);
  }

  function askAhead(ids: number[]): void {
    isAheadPlanned = false;
    const current = forward.value;
    if (!(current && sameIds(current.ids, ids))) {
      const result = engine.call('forward', { ids }).result;
      result.catch(() => undefined);
      ahead.forward = { ids, result };
    }
    const { request } = sampleRequest(ids, undefined, false);
    const call = callGeneration(engine, request, showStep);
    ahead.sample = { key: JSON.stringify(request), call };
    activeGeneration = call.runId;
  }

  async function runForward(): Promise<void> {
    const ids = tokens.value?.pieces.map((p) => p.id) ?? [];
    const current = forward.value;
    if (current && sameIds(current.ids, ids)) return;
    progress.value = 'Running one forward pass…';
    const asked = ahead.forward && sameIds(ahead.forward.ids, ids) ? ahead.forward.result : null;
    ahead.forward = null;
    forward.value = markRaw(await (asked ?? engine.call('forward', { ids }).result));
  }

  /** Where a generation of `steps` tokens (default: the cell's max) starts, and what the engine is asked. */
  function sampleRequest(promptIds: readonly number[], steps: number | undefined, continuing: boolean): { start: GenerationState; request: GenerateRequest } {
    const p = params.value.sample;
    const previous = generation.value;
    const start: GenerationState =
      continuing && previous
        ? { ...previous, stopReason: null }
        : { ids: fitPrompt([...promptIds], loaded.value?.context ?? promptIds.length, p.maxTokens).ids, steps: [], rngState: new SeededRandom(p.seed).snapshot, stopReason: null };
    // Plain copies: reactive proxies cannot cross to the worker (the parsed settings are new objects).
    const sampling = presetSettings(p.sampling, p.knobs);
    return { start, request: { state: { ...start, ids: [...start.ids], steps: [...start.steps] }, sampling, count: steps ?? p.maxTokens, stop: p.stop === '' ? undefined : p.stop } };
  }

  function showStep(state: GenerationState): void {
    generation.value = markRaw(state);
    progress.value = `Generating: step ${state.steps.length}`;
  }

  /** Generates `steps` tokens (default: the cell's max), continuing the current sequence when asked. */
  async function runSample(steps: number | undefined, continuing: boolean): Promise<void> {
    const { start, request } = sampleRequest(tokens.value?.pieces.map((t) => t.id) ?? [], steps, continuing);
    const asked = ahead.sample?.key === JSON.stringify(request) ? ahead.sample.call : null;
    if (!asked) dropAhead();
    ahead.sample = null;
    if (!continuing) generation.value = markRaw(start);
    const call = asked ?? callGeneration(engine, request, showStep);
    activeGeneration = call.runId;
    call.show();
    try {
      generation.value = markRaw(await call.result);
    } finally {
      activeGeneration = null;
      call.stop();
    }
  }

  /** The next run asks the engine for everything as soon as the tokens are known (Run all: every cell runs). */
  function planAhead(): void {
    isAheadPlanned = true;
  }

  /** Drops what was asked ahead and not used (a cell failed or was cancelled, or asked for something else). */
  function dropAhead(): void {
    isAheadPlanned = false;
    ahead.forward = null;
    const sample = ahead.sample;
    ahead.sample = null;
    if (!sample) return;
    sample.call.stop();
    engine.cancel(sample.call.runId);
    if (activeGeneration === sample.call.runId) activeGeneration = null;
  }

  /** Computes what a cell of `kind` shows; a sample `steps` tokens long, continuing the current one when asked. */
  async function compute(kind: CellKind, steps?: number, continuing = false): Promise<void> {
    if (kind === 'tokenize') await runTokenize();
    else if (kind === 'sample') await runSample(steps, continuing);
    else {
      await runForward();
      const [f, t] = [forward.value, tokens.value];
      if (f && t && shown[kind].value?.forward !== f) shown[kind].value = markRaw({ forward: f, tokens: t });
    }
  }

  /** Stops a generation in progress (other steps end on their own). */
  function cancelGeneration(): void {
    if (activeGeneration !== null) engine.cancel(activeGeneration);
  }

  /** Drops every result: they belong to another prompt, model or notebook. */
  function clear(): void {
    dropAhead();
    tokens.value = null;
    forward.value = null;
    generation.value = null;
    for (const view of Object.values(shown)) view.value = null;
  }

  /** A token's readable piece, for ids the forward pass Predict shows (or the last one) ranked highly or the prompt contains. */
  function tokenPiece(id: number): TokenPiece {
    const find = (pieces: readonly TokenPiece[] | undefined): TokenPiece | undefined => pieces?.find((p) => p.id === id);
    return find(shown.predict.value?.forward.topPieces) ?? find(forward.value?.topPieces) ?? find(tokens.value?.pieces) ?? { id, text: `<${id}>`, display: `<${id}>` };
  }

  return { tokens, forward, generation, shown, compute, planAhead, dropAhead, cancelGeneration, clear, tokenPiece };
}
