import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, watch } from 'vue';
import { ancestors, CELL_KINDS, CELL_PARAMS, dependants, type CellKind, type CellParams, type CellStatus } from '../../../common/cells';
import { DEFAULT_MODEL_ID, modelFileUrl, type PageModelInfo, type ModelProblem } from '../../../common/model-info';
import { liveFields } from '../notes/live-fields';
import { isComputedCell, isNoteCell, NOTE_KIND, NOTEBOOK_VERSION, NotebookDoc, type CachedResult, type CellDoc, type CompareDoc, type ContextDoc } from '../../../common/notebook-format';
import { matchNotebookModel } from '../../../common/notebook-model';
import type { GenerationState } from '../../../engine/generate';
import { SeededRandom } from '../../../engine/rng';
import { presetSettings } from '../../../common/sampling-strategy';
import { fitPrompt, predictResult } from '../../../engine/cell-results';
import { threadsFor } from '../../../engine/threads';
import type { TokenPiece } from '../../../engine/tokenizer';
import { EngineClient } from '../engine/engine-client';
import type { BackendChoice, ForwardPayload, LoadResult, ModelUrls, TokenizeResult } from '../engine/protocol';
import { api } from '../platform/api';

export const DEFAULT_PROMPT = 'The sun rises in the';
/** The Context cell's default pair: seed-world's minimal pair, the same last sentence after a money and a river context. */
export const DEFAULT_CONTEXT: ContextDoc = {
  a: 'She took her money to the bank. At the bank she',
  b: 'She rowed her boat down the river to the bank. At the bank she',
  word: ' bank',
};
const APP_VERSION = __APP_VERSION__;

interface CellRuntime {
  status: CellStatus;
  error: string | null;
  ms: number | null;
}

function defaultParams(): CellParams {
  return {
    tokenize: CELL_PARAMS.tokenize.parse({}),
    embed: CELL_PARAMS.embed.parse({}),
    attend: CELL_PARAMS.attend.parse({}),
    predict: CELL_PARAMS.predict.parse({}),
    sample: CELL_PARAMS.sample.parse({}),
  };
}

/** The notebook's cells in order: the five computed cells, notes between them, unknown cells kept. */
function defaultLayout(): CellDoc[] {
  return CELL_KINDS.map((kind) => ({ id: kind, kind, params: {} }));
}

/** A short, stable hash (FNV-1a, 32 bits) naming what a cached result was computed from. */
function resultKey(parts: unknown): string {
  const text = JSON.stringify(parts);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function freshCells(status: CellStatus = 'idle'): Record<CellKind, CellRuntime> {
  const cells = {} as Record<CellKind, CellRuntime>;
  for (const kind of CELL_KINDS) cells[kind] = { status, error: null, ms: null };
  return cells;
}

function absoluteUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}

/** The URLs of a model's files, in the variant chosen (fp16, quantized, ...: one of the folder's ONNX files), else its first. */
function modelUrls(model: PageModelInfo, variant: string | null): ModelUrls {
  const files = model.variants.find((v) => v.name === variant) ?? model.files;
  return {
    id: model.id,
    config: absoluteUrl(modelFileUrl(model.id, model.files.config)),
    tokenizer: absoluteUrl(modelFileUrl(model.id, model.files.tokenizer)),
    tokenizerConfig: model.files.tokenizerConfig ? absoluteUrl(modelFileUrl(model.id, model.files.tokenizerConfig)) : null,
    onnx: absoluteUrl(modelFileUrl(model.id, files.onnx)),
    onnxWithPast: files.onnxWithPast ? absoluteUrl(modelFileUrl(model.id, files.onnxWithPast)) : null,
    onnxFile: files.onnx,
    onnxWithPastFile: files.onnxWithPast,
    onnxData: files.onnxData.map((file) => ({ path: file.split('/').pop() ?? file, url: absoluteUrl(modelFileUrl(model.id, file)) })),
  };
}

/** Suggested wasm threads for a model of `bytes`: one for small models, else all cores up to 4 where the page is cross-origin isolated. */
function wasmThreads(bytes: number): number {
  return globalThis.crossOriginIsolated ? threadsFor(bytes, navigator.hardwareConcurrency || 1) : 1;
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

export const useNotebookStore = defineStore('notebook', () => {
  const engine = markRaw(new EngineClient(api.nativeEngine === true));
  /** Where models run: auto (the native engine in the desktop app, else WebGPU when there is an adapter, else WASM) or one backend. */
  const backendChoice = ref<BackendChoice>('auto');
  const models = ref<PageModelInfo[]>([]);
  const modelProblems = ref<ModelProblem[]>([]);
  const modelId = ref<string>(DEFAULT_MODEL_ID);
  /** The variant of the current model in use (a view setting of this window: null is the folder's first, full precision where it has one). */
  const variant = ref<string | null>(null);
  const prompt = ref<string>(DEFAULT_PROMPT);
  const params = ref<CellParams>(defaultParams());
  const cells = ref<Record<CellKind, CellRuntime>>(freshCells());
  const loaded = shallowRef<LoadResult | null>(null);
  const loading = ref(false);
  const running = ref(false);
  const progress = ref<string | null>(null);
  const errorBanner = ref<string | null>(null);
  const notebookName = ref('Untitled');
  const tokens = shallowRef<TokenizeResult | null>(null);
  const forward = shallowRef<ForwardPayload | null>(null);
  const generation = shallowRef<GenerationState | null>(null);
  const lastRunMs = ref<number | null>(null);
  const layout = ref<CellDoc[]>(defaultLayout());
  /** Results saved with the notebook that was opened, shown until the cell runs again. */
  const savedResults = shallowRef<Record<string, CachedResult>>({});
  /** The Compare cell's set-up as saved (null: its default columns); the compare store keeps it current. */
  const compareDoc = ref<CompareDoc | null>(null);
  /** The Context cell's two prompts and shared token. */
  const contextDoc = ref<ContextDoc>({ ...DEFAULT_CONTEXT });
  /** Counts notebooks opened or started: the Compare cell takes its set-up from `compareDoc` each time. */
  const opened = ref(0);
  /** Said when an opened notebook's model is missing or has another hash; `matches` are model ids to offer. */
  const modelNotice = ref<{ message: string; matches: string[] } | null>(null);
  /** Said when the desktop app's native engine stopped: the reason; a restart is offered. */
  const nativeEngineNotice = ref<string | null>(null);
  /** Counts changes to what is saved; `savedRevision` is the count the last save or open saw. */
  const revision = ref(0);
  const savedRevision = ref(0);
  const isDirty = computed(() => revision.value !== savedRevision.value);
  let nextNoteId = 1;
  let resolveModelsListed: () => void = () => undefined;
  /** Settles once the models are listed (or listing failed): a notebook can then be matched to them. */
  const modelsListed = new Promise<void>((resolve) => {
    resolveModelsListed = resolve;
  });
  watch(
    [prompt, params, modelId, layout, notebookName, compareDoc, contextDoc],
    () => {
      revision.value++;
    },
    { deep: true, flush: 'sync' },
  );
  let activeGeneration: number | null = null;
  let cancelRequested = false;

  const model = computed(() => models.value.find((m) => m.id === modelId.value) ?? null);

  function markStale(kinds: readonly CellKind[]): void {
    for (const kind of kinds) {
      const cell = cells.value[kind];
      if (cell.status === 'done' || cell.status === 'error') cell.status = 'stale';
    }
  }

  async function init(): Promise<void> {
    try {
      const list = await api.models.list();
      models.value = list.models;
      modelProblems.value = list.problems;
      if (list.models.length === 0) {
        errorBanner.value = `No model was found. ${list.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
        return;
      }
      if (!list.models.some((m) => m.id === modelId.value)) {
        const wasClean = !isDirty.value;
        modelId.value = list.models[0]?.id ?? DEFAULT_MODEL_ID;
        if (wasClean) markSaved();
      }
      resolveModelsListed();
      await loadModel();
      if (list.problems.length > 0 && errorBanner.value === null) {
        errorBanner.value = `Some model folders could not be used: ${list.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
      }
    } catch (cause) {
      errorBanner.value = `Could not list models: ${message(cause)}`;
    } finally {
      resolveModelsListed();
    }
  }

  /** Lists the models again (after an import); keeps the current model when it is still there. */
  async function refreshModels(): Promise<void> {
    const list = await api.models.list();
    models.value = list.models;
    modelProblems.value = list.problems;
  }

  // The native engine's process died: what it was running fails with the reason, and the model is
  // loaded again in the page (WebGPU or WASM) so work can go on; a restart brings it back.
  api.engine?.onNativeExit((reason) => {
    const wasNative = engine.nativeStopped(reason);
    nativeEngineNotice.value = `${reason}. Models run in the page (WebGPU or WASM) until it is restarted.`;
    if (wasNative && !loading.value) void loadModel(backendChoice.value === 'native' ? 'auto' : backendChoice.value);
  });
  engine.onNativeReady = () => {
    nativeEngineNotice.value = null;
    if (backendChoice.value === 'auto' || backendChoice.value === 'native') void loadModel();
  };

  /** Starts the native engine's process again; its port arrives as the first one did (`onNativeReady`). */
  async function restartNativeEngine(): Promise<void> {
    try {
      await api.engine?.restartNative();
    } catch (cause) {
      nativeEngineNotice.value = `The native engine could not be restarted: ${message(cause)}`;
    }
  }

  async function loadModel(backend: BackendChoice = backendChoice.value): Promise<void> {
    const info = model.value;
    if (!info) {
      errorBanner.value = `Model "${modelId.value}" is not available.`;
      return;
    }
    loading.value = true;
    loaded.value = null;
    try {
      loaded.value = await engine.call('load', { model: modelUrls(info, variant.value), backend, threads: wasmThreads(info.variants.find((v) => v.name === variant.value)?.bytes ?? info.bytes) }).result;
      errorBanner.value = null;
    } catch (cause) {
      errorBanner.value = `Could not load model "${info.id}": ${message(cause)}`;
    } finally {
      loading.value = false;
    }
  }

  /** Runs the model on another backend: loaded again there; every cell is out of date. */
  async function setBackend(choice: BackendChoice): Promise<void> {
    if (choice === backendChoice.value) return;
    backendChoice.value = choice;
    await reload();
  }

  /** Results belong to the model, file and backend that computed them: dropped, every cell out of date, the model loaded again. */
  async function reload(): Promise<void> {
    tokens.value = null;
    forward.value = null;
    generation.value = null;
    markStale(CELL_KINDS);
    await loadModel();
  }

  async function setModel(id: string): Promise<void> {
    if (id === modelId.value && loaded.value?.modelId === id) return;
    // A prompt the user has not changed follows the model: each may suggest its own (its card's).
    const suggested = (m: PageModelInfo | null | undefined): string => m?.defaultPrompt ?? DEFAULT_PROMPT;
    if (prompt.value === suggested(model.value)) prompt.value = suggested(models.value.find((m) => m.id === id));
    modelId.value = id;
    variant.value = null;
    await reload();
  }

  /** Runs another variant of the current model (fp16, quantized, q4, ...): loaded again; every cell is out of date. */
  async function setVariant(name: string): Promise<void> {
    const current = variant.value ?? model.value?.variant ?? null;
    if (name === current || !model.value?.variants.some((v) => v.name === name)) return;
    variant.value = name;
    await reload();
  }

  function setPrompt(text: string): void {
    if (text === prompt.value) return;
    prompt.value = text;
    markStale(CELL_KINDS);
  }

  /** Changes a cell's parameters; returns the validation message, if any. Only sample re-runs the model. */
  function setParams<K extends CellKind>(kind: K, patch: Partial<CellParams[K]>): string | null {
    const next = { ...params.value[kind], ...patch };
    const parsed = CELL_PARAMS[kind].safeParse(next);
    if (!parsed.success) return parsed.error.issues[0]?.message ?? 'invalid value';
    (params.value as Record<CellKind, unknown>)[kind] = parsed.data;
    if (kind === 'sample') markStale(['sample', ...dependants('sample')]);
    return null;
  }

  function isFresh(kind: CellKind): boolean {
    return cells.value[kind].status === 'done';
  }

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
    const call = engine.call('generate', request, (state) => {
      generation.value = markRaw(state);
      progress.value = `Generating: step ${state.steps.length}`;
    });
    activeGeneration = call.runId;
    try {
      generation.value = markRaw(await call.result);
    } finally {
      activeGeneration = null;
    }
  }

  async function execute(kind: CellKind, steps?: number, continuing = false): Promise<void> {
    const cell = cells.value[kind];
    cell.status = 'running';
    cell.error = null;
    const started = performance.now();
    try {
      if (cancelRequested) throw new Error('Cancelled.');
      switch (kind) {
        case 'tokenize':
          await runTokenize();
          break;
        case 'embed':
        case 'attend':
        case 'predict':
          await runForward();
          break;
        case 'sample':
          await runSample(steps, continuing);
          break;
      }
      cell.ms = performance.now() - started;
      cell.status = 'done';
    } catch (cause) {
      cell.status = 'error';
      cell.error = message(cause);
      errorBanner.value = `${kind[0]?.toUpperCase()}${kind.slice(1)}: ${cell.error}`;
      throw cause;
    }
  }

  async function guarded(work: () => Promise<void>): Promise<void> {
    if (running.value) return;
    if (!loaded.value) {
      if (loading.value) return;
      await loadModel();
      if (!loaded.value) return;
    }
    running.value = true;
    cancelRequested = false;
    errorBanner.value = null;
    const started = performance.now();
    try {
      await work();
      lastRunMs.value = performance.now() - started;
    } catch {
      // The failing cell has shown its error; later cells stay as they were.
    } finally {
      running.value = false;
      progress.value = null;
    }
  }

  /** Runs one cell, first running any of its ancestors that are not up to date. */
  async function runCell(kind: CellKind): Promise<void> {
    await guarded(async () => {
      for (const parent of ancestors(kind)) if (!isFresh(parent)) await execute(parent);
      await execute(kind);
    });
  }

  /** One more turn of the loop: predict, pick, append. Starts over when the sample is not up to date. */
  async function stepSample(): Promise<void> {
    await guarded(async () => {
      for (const parent of ancestors('sample')) if (!isFresh(parent)) await execute(parent);
      const current = generation.value;
      const continuing = isFresh('sample') && current !== null && current.stopReason !== 'context-full' && current.stopReason !== 'end-of-text';
      await execute('sample', 1, continuing);
    });
  }

  async function runAll(): Promise<void> {
    await guarded(async () => {
      for (const kind of CELL_KINDS) await execute(kind);
    });
  }

  function cancel(): void {
    cancelRequested = true;
    if (activeGeneration !== null) engine.cancel(activeGeneration);
  }

  /** The values of the `{{name}}` fields notes may hold, from the last run as the cells show it. */
  const noteFields = computed(() => {
    const m = model.value;
    const isShown = (kind: CellKind): boolean => cells.value[kind].status === 'done' || cells.value[kind].status === 'stale';
    return liveFields({
      model: m ? { id: m.id, layers: m.layers, heads: m.heads, hidden: m.hidden, vocab: m.vocab, context: m.context } : null,
      prompt: prompt.value,
      tokens: isShown('tokenize') ? (tokens.value?.pieces ?? null) : null,
      forward: isShown('predict') ? forward.value : null,
      attend: params.value.attend,
      temperature: params.value.predict.temperature,
      piece: tokenPiece,
      generated: isShown('sample') && generation.value ? generation.value.steps.map((st) => st.token).join('') : null,
    });
  });

  /** The forward pass a view cell shows: its result while it is up to date or marked out of date. */
  function forwardFor(kind: 'embed' | 'attend' | 'predict'): ForwardPayload | null {
    const status = cells.value[kind].status;
    return status === 'done' || status === 'stale' ? forward.value : null;
  }

  /** A token's readable piece, for ids the last forward pass ranked highly or the prompt contains. */
  function tokenPiece(id: number): TokenPiece {
    return (
      forward.value?.topPieces.find((p) => p.id === id) ??
      tokens.value?.pieces.find((p) => p.id === id) ?? { id, text: `<${id}>`, display: `<${id}>` }
    );
  }

  /** A small record of what each finished cell computed, saved with the notebook (bounded by the store). */
  function cachedResults(): Record<string, CachedResult> {
    const out: Record<string, CachedResult> = {};
    const key = (kind: CellKind): string => resultKey([`${model.value?.sha256 ?? modelId.value}${variant.value ? `:${variant.value}` : ''}`, prompt.value, params.value.tokenize, kind === 'sample' ? params.value.sample : kind === 'predict' ? params.value.predict : null]);
    for (const cell of layout.value) {
      if (!isComputedCell(cell) || cells.value[cell.kind].status !== 'done') continue;
      if (cell.kind === 'tokenize' && tokens.value) {
        const pieces = tokens.value.pieces;
        out[cell.id] = { key: key('tokenize'), data: { summary: `${pieces.length} tokens`, ids: pieces.map((p) => p.id), text: pieces.map((p) => p.text) } };
      } else if (cell.kind === 'predict' && forward.value) {
        const { top } = predictResult(forward.value.lastLogits, params.value.predict.topK, params.value.predict.temperature);
        const first = top[0];
        out[cell.id] = {
          key: key('predict'),
          data: {
            summary: first ? `top-1 ${JSON.stringify(tokenPiece(first.id).text)} at ${(first.prob * 100).toFixed(1)}%` : '',
            top: top.map((t) => ({ id: t.id, token: tokenPiece(t.id).text, prob: t.prob, logit: t.logit })),
          },
        };
      } else if (cell.kind === 'sample' && generation.value) {
        const steps = generation.value.steps;
        const text = steps.map((st) => st.token).join('');
        out[cell.id] = { key: key('sample'), data: { summary: `generated ${JSON.stringify(text)}`, text, steps: steps.map((st) => ({ id: st.id, token: st.token, prob: st.prob })) } };
      }
    }
    return out;
  }

  function toDoc(): NotebookDoc {
    const seen = new Set<CellKind>();
    const doc: NotebookDoc = {
      format: 'next-token-lab-notebook',
      version: NOTEBOOK_VERSION,
      name: notebookName.value,
      prompt: prompt.value,
      model: { id: modelId.value, sha256: model.value?.sha256 ?? null },
      backend: loaded.value?.backend ?? null,
      appVersion: APP_VERSION,
      savedAt: new Date().toISOString(),
      cells: layout.value.map((cell) => {
        // The first cell of each kind holds the parameters the UI edits; later ones are kept as read.
        if (!isComputedCell(cell) || seen.has(cell.kind)) return cell;
        seen.add(cell.kind);
        return { id: cell.id, kind: cell.kind, params: { ...params.value[cell.kind] } };
      }),
      results: { ...savedResults.value, ...cachedResults() },
      ...(compareDoc.value ? { compare: compareDoc.value } : {}),
      context: { ...contextDoc.value },
    };
    // Plain data: reactive proxies cannot be sent over IPC.
    return NotebookDoc.parse(JSON.parse(JSON.stringify(doc)));
  }

  /** Records that what is on screen is what was saved (or opened) at `at`. */
  function markSaved(at = revision.value): void {
    savedRevision.value = at;
  }

  /** A new, empty notebook: default cells and parameters, the current model. */
  function reset(): void {
    notebookName.value = 'Untitled';
    prompt.value = DEFAULT_PROMPT;
    params.value = defaultParams();
    layout.value = defaultLayout();
    savedResults.value = {};
    compareDoc.value = null;
    contextDoc.value = { ...DEFAULT_CONTEXT };
    opened.value++;
    modelNotice.value = null;
    clearRuntime();
    markSaved();
  }

  function clearRuntime(): void {
    cells.value = freshCells();
    tokens.value = null;
    forward.value = null;
    generation.value = null;
  }

  async function applyDoc(doc: NotebookDoc): Promise<void> {
    notebookName.value = doc.name;
    const next = defaultParams();
    const seen = new Set<CellKind>();
    for (const cell of doc.cells) {
      if (!isComputedCell(cell) || seen.has(cell.kind)) continue;
      seen.add(cell.kind);
      const parsed = CELL_PARAMS[cell.kind].safeParse(cell.params);
      if (parsed.success) (next as Record<CellKind, unknown>)[cell.kind] = parsed.data;
    }
    params.value = next;
    prompt.value = doc.prompt;
    layout.value = doc.cells.map((cell) => ({ ...cell }));
    savedResults.value = markRaw({ ...(doc.results ?? {}) });
    compareDoc.value = doc.compare ?? null;
    contextDoc.value = { ...(doc.context ?? DEFAULT_CONTEXT) };
    opened.value++;
    clearRuntime();
    const match = matchNotebookModel(doc.model, models.value);
    // The notebook's own model when it is there, else the current one; models with its hash are offered.
    const target = match.status === 'missing' ? modelId.value : doc.model.id;
    modelNotice.value = match.message === null ? null : { message: match.message, matches: match.matches };
    const pending = target !== modelId.value ? setModel(target) : null;
    markSaved();
    await pending;
  }

  /** The result saved with the notebook for a cell, while the cell has not run since it was opened. */
  function savedSummary(id: string): string | null {
    const data = savedResults.value[id]?.data;
    return data !== null && typeof data === 'object' && 'summary' in data && typeof data.summary === 'string' ? data.summary : null;
  }

  /** Adds a Markdown note after the cell at `index` (-1: at the top); returns its id. */
  function addNote(index: number, text = ''): string {
    let id = `note-${nextNoteId++}`;
    while (layout.value.some((c) => c.id === id)) id = `note-${nextNoteId++}`;
    layout.value.splice(index + 1, 0, { id, kind: NOTE_KIND, text });
    return id;
  }

  function setNoteText(id: string, text: string): void {
    const cell = layout.value.find((c) => c.id === id);
    if (cell && isNoteCell(cell) && cell.text !== text) cell.text = text;
  }

  /** Removes a note or a cell of an unknown kind (computed cells stay: each view is one of the five). */
  function removeCell(id: string): void {
    const index = layout.value.findIndex((c) => c.id === id);
    const cell = layout.value[index];
    if (cell && !isComputedCell(cell)) layout.value.splice(index, 1);
  }

  function moveCell(id: string, delta: -1 | 1): void {
    const index = layout.value.findIndex((c) => c.id === id);
    const to = index + delta;
    if (index < 0 || to < 0 || to >= layout.value.length) return;
    const [cell] = layout.value.splice(index, 1);
    if (cell) layout.value.splice(to, 0, cell);
  }

  return {
    engine,
    models,
    modelProblems,
    modelId,
    model,
    prompt,
    params,
    cells,
    loaded,
    loading,
    running,
    progress,
    errorBanner,
    notebookName,
    tokens,
    forward,
    generation,
    lastRunMs,
    init,
    loadModel,
    backendChoice,
    setBackend,
    refreshModels,
    setModel,
    variant,
    setVariant,
    setPrompt,
    setParams,
    runCell,
    stepSample,
    runAll,
    cancel,
    toDoc,
    tokenPiece,
    forwardFor,
    applyDoc,
    modelsListed,
    layout,
    modelNotice,
    nativeEngineNotice,
    restartNativeEngine,
    revision,
    compareDoc,
    contextDoc,
    noteFields,
    opened,
    isDirty,
    markSaved,
    reset,
    savedSummary,
    addNote,
    setNoteText,
    removeCell,
    moveCell,
  };
});
