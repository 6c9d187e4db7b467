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

/** The cells that show the one forward pass. */
export type ViewKind = 'embed' | 'attend' | 'predict';

/** What a view cell shows: a forward pass and the tokens it read (their labels). */
export interface ShownForward {
  forward: ForwardPayload;
  tokens: TokenizeResult;
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
  /**
   * What each view cell shows, set when its own run ends: while it runs again the cell keeps its
   * result (its charts stay and are drawn again in place, not built anew), and the three cells
   * take a new pass one after another, each in a task of its own, not all in one.
   */
  const shown: Record<ViewKind, ShallowRef<ShownForward | null>> = { embed: shallowRef(null), attend: shallowRef(null), predict: shallowRef(null) };
  let activeGeneration: number | null = null;

  async function runTokenize(): Promise<void> {
    const text = prompt.value;
    if (text.trim().length === 0) throw new Error('The prompt is empty: type some text for the model to read.');
    const result = await engine.call('tokenize', { text }).result;
    if (result.pieces.length === 0) throw new Error('The prompt produced no tokens.');
    tokens.value = markRaw(result);
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

  return { tokens, forward, generation, shown, compute, cancelGeneration, clear, tokenPiece };
}
