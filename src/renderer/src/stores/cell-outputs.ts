import { markRaw, shallowRef, type Ref, type ShallowRef } from 'vue';
import type { CellKind, CellParams } from '../../../common/cells';
import { presetSettings } from '../../../common/sampling-strategy';
import { fitPrompt } from '../../../engine/cell-results';
import type { GenerationState } from '../../../engine/generate';
import { SeededRandom } from '../../../engine/rng';
import type { TokenPiece } from '../../../engine/tokenizer';
import type { EngineClient } from '../engine/engine-client';
import type { ForwardPayload, LoadResult, TokenizeResult } from '../engine/protocol';

/** What the notebook's cells read: its prompt and parameters, the loaded model, where progress is told. */
export interface CellInputs {
  engine: EngineClient;
  prompt: Ref<string>;
  params: Ref<CellParams>;
  loaded: ShallowRef<LoadResult | null>;
  progress: Ref<string | null>;
}

/** The window's next frame; a short timer where there are no frames (tests in Node). */
const nextFrame = (run: () => void): number => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(run) : Number(setTimeout(run, 16)));
const cancelFrame = (id: number): void => (typeof cancelAnimationFrame === 'function' ? cancelAnimationFrame(id) : clearTimeout(id));

/**
 * What the computed cells computed, outside Vue's deep reactivity (heavy arrays): the tokens, the
 * one forward pass Embed, Attend and Predict share, and the generation; and how each kind computes it.
 */
export function useCellOutputs({ engine, prompt, params, loaded, progress }: CellInputs) {
  const tokens = shallowRef<TokenizeResult | null>(null);
  const forward = shallowRef<ForwardPayload | null>(null);
  const generation = shallowRef<GenerationState | null>(null);
  let activeGeneration: number | null = null;

  async function runTokenize(): Promise<void> {
    const text = prompt.value;
    if (text.trim().length === 0) throw new Error('The prompt is empty: type some text for the model to read.');
    const result = await engine.call('tokenize', { text }).result;
    if (result.pieces.length === 0) throw new Error('The prompt produced no tokens.');
    tokens.value = markRaw(result);
    forward.value = null;
  }

  async function runForward(): Promise<void> {
    const ids = tokens.value?.pieces.map((p) => p.id) ?? [];
    const current = forward.value;
    if (current && current.ids.length === ids.length && current.ids.every((id, i) => id === ids[i])) return;
    progress.value = 'Running one forward pass…';
    forward.value = markRaw(await engine.call('forward', { ids }).result);
  }

  /** Generates `steps` tokens (default: the cell's max), continuing the current sequence when asked. */
  async function runSample(steps: number | undefined, continuing: boolean): Promise<void> {
    const p = params.value.sample;
    const promptIds = tokens.value?.pieces.map((t) => t.id) ?? [];
    const previous = generation.value;
    const start: GenerationState =
      continuing && previous
        ? { ...previous, stopReason: null }
        : { ids: fitPrompt(promptIds, loaded.value?.context ?? promptIds.length, p.maxTokens).ids, steps: [], rngState: new SeededRandom(p.seed).snapshot, stopReason: null };
    const count = steps ?? p.maxTokens;
    if (!continuing) generation.value = markRaw(start);
    // Plain copies: reactive proxies cannot cross to the worker (the parsed settings are new objects).
    const sampling = presetSettings(p.sampling, p.knobs);
    const request = { state: { ...start, ids: [...start.ids], steps: [...start.steps] }, sampling, count, stop: p.stop === '' ? undefined : p.stop };
    // Steps come faster than the window paints: the cell shows the latest one once a frame, so the
    // window's time goes to drawing what is seen, not to every step in between.
    let latest: GenerationState | null = null;
    let frame: number | null = null;
    const show = (): void => {
      frame = null;
      if (!latest) return;
      generation.value = markRaw(latest);
      progress.value = `Generating: step ${latest.steps.length}`;
      latest = null;
    };
    const call = engine.call('generate', request, (state) => {
      latest = state;
      frame ??= nextFrame(show);
    });
    activeGeneration = call.runId;
    try {
      generation.value = markRaw(await call.result);
    } finally {
      activeGeneration = null;
      latest = null;
      if (frame !== null) cancelFrame(frame);
    }
  }

  /** Computes what a cell of `kind` shows; a sample `steps` tokens long, continuing the current one when asked. */
  async function compute(kind: CellKind, steps?: number, continuing = false): Promise<void> {
    if (kind === 'tokenize') await runTokenize();
    else if (kind === 'sample') await runSample(steps, continuing);
    else await runForward();
  }

  /** Stops a generation in progress (other steps end on their own). */
  function cancelGeneration(): void {
    if (activeGeneration !== null) engine.cancel(activeGeneration);
  }

  /** Drops every result: they belong to another prompt, model or notebook. */
  function clear(): void {
    tokens.value = null;
    forward.value = null;
    generation.value = null;
  }

  /** A token's readable piece, for ids the last forward pass ranked highly or the prompt contains. */
  function tokenPiece(id: number): TokenPiece {
    return forward.value?.topPieces.find((p) => p.id === id) ?? tokens.value?.pieces.find((p) => p.id === id) ?? { id, text: `<${id}>`, display: `<${id}>` };
  }

  return { tokens, forward, generation, compute, cancelGeneration, clear, tokenPiece };
}
