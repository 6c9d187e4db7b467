import { errorMessage as message } from '../../../common/error-message';
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, watch, type ComputedRef } from 'vue';
import { ancestors, CELL_KINDS, CELL_PARAMS, dependants, type CellKind, type CellParams } from '../../../common/cells';
import { DEFAULT_MODEL_ID, type PageModelInfo } from '../../../common/model-info';
import { liveFields } from '../notes/live-fields';
import { isComputedCell, isNoteCell, NOTE_KIND, type CachedResult, type CellDoc, type CompareDoc, type ContextDoc, type NotebookDoc } from '../../../common/notebook-format';
import { matchNotebookModel } from '../../../common/notebook-model';
import type { TokenPiece } from '../../../engine/tokenizer';
import type { BackendChoice, ForwardPayload } from '../engine/protocol';
import { useCellOutputs, type ShownForward, type ViewKind } from './cell-outputs';
import { useEngineSession } from './engine-session';
import { IDLE, isShown, transitionCell, type CellMessage, type CellRuntime } from './cell-status';
import { useModelsStore } from './models';
import { yieldToWindow } from '../yield-to-window';
import { cellResults, DEFAULT_CONTEXT, DEFAULT_PROMPT, defaultLayout, defaultParams, fromNotebookDoc, primaryCells, toNotebookDoc } from './notebook-doc';
import { REMOTE_PREFIX, useRemoteStore } from './remote';

const APP_VERSION = __APP_VERSION__;


/** Every computed cell's runtime part, keyed by the id of the cell that shows its kind, all idle. */
function freshRuntime(primary: Record<CellKind, string>): Record<string, CellRuntime> {
  return Object.fromEntries(CELL_KINDS.map((kind) => [primary[kind], { ...IDLE }]));
}

export const useNotebookStore = defineStore('notebook', () => {
  const models = useModelsStore();
  const errorBanner = ref<string | null>(null);
  const { engine, loaded, loading, loadModel, nativeEngineNotice, restartNativeEngine } = useEngineSession(models, errorBanner);
  const prompt = ref<string>(DEFAULT_PROMPT);
  const params = ref<CellParams>(defaultParams());
  const layout = ref<CellDoc[]>(defaultLayout());
  /** The cell that shows each computed kind (the first of its kind in the layout). */
  const primary = computed(() => primaryCells(layout.value));
  /** Each computed cell's runtime part (status, error, time), by cell id. */
  const cells = ref<Record<string, CellRuntime>>(freshRuntime(primary.value));
  /** The run guard: true while a run (cells, Compare, Context, an intervention) holds the engine. */
  const running = ref(false);
  const progress = ref<string | null>(null);
  const notebookName = ref('Untitled');
  const lastRunMs = ref<number | null>(null);
  /** Results saved with the notebook that was opened, shown until the cell runs again. */
  const savedResults = shallowRef<Record<string, CachedResult>>({});
  /** The Compare cell's set-up as saved (null: its default columns); the compare store sets it when its columns change. */
  const compareDoc = ref<CompareDoc | null>(null);
  /** The Context cell's two prompts and shared token. */
  const contextDoc = ref<ContextDoc>({ ...DEFAULT_CONTEXT });
  /** Counts notebooks opened or started: the Compare cell takes its set-up from `compareDoc` each time. */
  const opened = ref(0);
  /** Said when an opened notebook's model is missing or has another hash; `matches` are model ids to offer. */
  const modelNotice = ref<{ message: string; matches: string[] } | null>(null);
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
  watch([prompt, params, () => models.modelId, () => useRemoteStore().active, layout, notebookName, compareDoc, contextDoc], () => void revision.value++, { deep: true, flush: 'sync' });
  let cancelRequested = false;
  const outputs = useCellOutputs({ engine, prompt, params, loaded, progress });
  const { tokens, forward, generation, tokenPiece } = outputs;

  /** The notebook's model (chosen in the models store) and its listing. */
  const modelId = computed(() => models.modelId);
  const model = computed(() => models.model);

  /** The runtime part of the cell that shows `kind`. */
  function cellState(kind: CellKind): CellRuntime {
    return cells.value[primary.value[kind]] ?? IDLE;
  }

  /** Moves the cells that show `kinds` on by `msg`: every status change goes through `transitionCell`. */
  function send(kinds: readonly CellKind[], msg: CellMessage): void {
    for (const kind of kinds) cells.value[primary.value[kind]] = transitionCell(cellState(kind), msg);
  }

  async function init(): Promise<void> {
    try {
      await models.list();
      if (models.models.length === 0) {
        errorBanner.value = `No model was found. ${models.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
        return;
      }
      if (!models.models.some((m) => m.id === models.modelId)) {
        const wasClean = !isDirty.value;
        models.modelId = models.models[0]?.id ?? DEFAULT_MODEL_ID;
        if (wasClean) markSaved();
      }
      resolveModelsListed();
      await loadModel();
      if (models.problems.length > 0 && errorBanner.value === null) {
        errorBanner.value = `Some model folders could not be used: ${models.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
      }
    } catch (cause) {
      errorBanner.value = `Could not list models: ${message(cause)}`;
    } finally {
      resolveModelsListed();
    }
  }

  /** Runs the model on another backend: loaded again there; every cell is out of date. */
  async function setBackend(choice: BackendChoice): Promise<void> {
    if (choice === models.backendChoice) return;
    models.backendChoice = choice;
    await reload();
  }

  /** Results belong to the model, file and backend that computed them: dropped, every cell out of date, the model loaded again. */
  async function reload(): Promise<void> {
    outputs.clear();
    send(CELL_KINDS, { type: 'model-changed' });
    await loadModel();
  }

  async function setModel(id: string): Promise<void> {
    if (id === models.modelId && loaded.value?.modelId === id) return;
    // A prompt the user has not changed follows the model: each may suggest its own (its card's).
    const suggested = (m: PageModelInfo | null | undefined): string => m?.defaultPrompt ?? DEFAULT_PROMPT;
    if (prompt.value === suggested(models.model)) prompt.value = suggested(models.models.find((m) => m.id === id));
    models.modelId = id;
    models.variant = null;
    await reload();
  }

  /** Runs another variant of the current model (fp16, quantized, q4, ...): loaded again; every cell is out of date. */
  async function setVariant(name: string): Promise<void> {
    if (!models.isOtherVariant(name)) return;
    models.variant = name;
    await reload();
  }

  function setPrompt(text: string): void {
    if (text === prompt.value) return;
    prompt.value = text;
    send(CELL_KINDS, { type: 'input-changed' });
  }

  /** Changes a cell's parameters; returns the validation message, if any. Only sample re-runs the model. */
  function setParams<K extends CellKind>(kind: K, patch: Partial<CellParams[K]>): string | null {
    const next = { ...params.value[kind], ...patch };
    const parsed = CELL_PARAMS[kind].safeParse(next);
    if (!parsed.success) return parsed.error.issues[0]?.message ?? 'invalid value';
    (params.value as Record<CellKind, unknown>)[kind] = parsed.data;
    if (kind === 'sample') send(['sample', ...dependants('sample')], { type: 'input-changed' });
    return null;
  }

  function isFresh(kind: CellKind): boolean {
    return cellState(kind).status === 'done';
  }

  async function execute(kind: CellKind, steps?: number, continuing = false): Promise<void> {
    send([kind], { type: 'run-started' });
    const started = performance.now();
    try {
      if (cancelRequested) throw new Error('Cancelled.');
      await outputs.compute(kind, steps, continuing);
      send([kind], { type: 'result', ms: performance.now() - started });
      // Each cell's result is shown in a task of its own (the next cell's goes in the next one).
      await yieldToWindow();
    } catch (cause) {
      send([kind], { type: 'failed', error: message(cause) });
      errorBanner.value = `${kind[0]?.toUpperCase()}${kind.slice(1)}: ${message(cause)}`;
      throw cause;
    }
  }

  /**
   * The run guard: `work` runs holding the engine, one run at a time (the cells, Compare, Context,
   * interventions). Refused (false) while another run holds it, or when no model is loaded (loaded
   * first when `load`). What `work` throws passes through once the guard is released.
   */
  async function claim(work: () => Promise<void>, load = true): Promise<boolean> {
    if (running.value) return false;
    if (!loaded.value) {
      if (!load || loading.value) return false;
      await loadModel();
      if (!loaded.value || running.value) return false;
    }
    running.value = true;
    cancelRequested = false;
    try {
      await work();
      return true;
    } finally {
      running.value = false;
      progress.value = null;
    }
  }

  async function guarded(work: () => Promise<void>): Promise<void> {
    try {
      await claim(async () => {
        errorBanner.value = null;
        const started = performance.now();
        await work();
        lastRunMs.value = performance.now() - started;
      });
    } catch {
      // The failing cell has shown its error; later cells stay as they were.
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
      outputs.planAhead();
      try {
        for (const kind of CELL_KINDS) await execute(kind);
      } finally {
        outputs.dropAhead();
      }
    });
  }

  function cancel(): void {
    cancelRequested = true;
    outputs.cancelGeneration();
  }

  /** The values of the `{{name}}` fields notes may hold, from the last run as the cells show it. */
  const noteFields = computed(() => {
    const m = models.model;
    return liveFields({
      model: m ? { id: m.id, layers: m.layers, heads: m.heads, hidden: m.hidden, vocab: m.vocab, context: m.context } : null,
      prompt: prompt.value,
      tokens: isShown(cellState('tokenize')) ? (tokens.value?.pieces ?? null) : null,
      forward: forwardFor('predict'),
      attend: params.value.attend,
      temperature: params.value.predict.temperature,
      piece: tokenPiece,
      generated: isShown(cellState('sample')) && generation.value ? generation.value.steps.map((st) => st.token).join('') : null,
    });
  });

  /**
   * What a view cell shows: its last result while it is up to date, marked out of date, or running
   * again. Computed, so a change of status alone leaves what the cell draws from untouched.
   */
  const shownView = (kind: ViewKind) =>
    computed<ShownForward | null>(() => {
      const status = cellState(kind).status;
      return status === 'idle' || status === 'error' ? null : outputs.shown[kind].value;
    });
  const shownViews: Record<ViewKind, ComputedRef<ShownForward | null>> = { embed: shownView('embed'), attend: shownView('attend'), predict: shownView('predict') };
  const shownFor = (kind: ViewKind): ShownForward | null => shownViews[kind].value;

  /** The forward pass a view cell shows (`shownFor`). */
  function forwardFor(kind: ViewKind): ForwardPayload | null {
    return shownFor(kind)?.forward ?? null;
  }

  /** The tokens of the forward pass a view cell shows: its labels. */
  function piecesFor(kind: ViewKind): TokenPiece[] {
    return shownFor(kind)?.tokens.pieces ?? [];
  }

  function servedModel(): NotebookDoc['model'] | null {
    const served = useRemoteStore().active;
    return served ? { id: `${REMOTE_PREFIX}${served.model}`, sha256: null, baseUrl: served.baseUrl, timeoutS: served.timeoutS } : null;
  }

  /** Opens a notebook's served model (`remote:NAME` with its server); false for a local model. */
  function useServedModel(wanted: NotebookDoc['model']): boolean {
    const remote = useRemoteStore();
    if (!wanted.id.startsWith(REMOTE_PREFIX) || wanted.baseUrl === undefined) {
      remote.leave();
      return false;
    }
    remote.use({ baseUrl: wanted.baseUrl, model: wanted.id.slice(REMOTE_PREFIX.length), timeoutS: wanted.timeoutS ?? 60 });
    return true;
  }

  function toDoc(): NotebookDoc {
    const m = models.model;
    const computedResults = cellResults(layout.value, {
      model: `${m?.sha256 ?? models.modelId}${models.variant ? `:${models.variant}` : ''}`,
      prompt: prompt.value,
      params: params.value,
      cells: cells.value,
      tokens: tokens.value,
      forward: forward.value,
      generation: generation.value,
      piece: tokenPiece,
    });
    const state = {
      name: notebookName.value,
      prompt: prompt.value,
      // A served model is kept as its server and name only: its key never enters a notebook.
      model: servedModel() ?? { id: models.modelId, sha256: m?.sha256 ?? null },
      backend: loaded.value?.backend ?? null,
      layout: layout.value,
      params: params.value,
      results: { ...savedResults.value, ...computedResults },
      compare: compareDoc.value,
      context: contextDoc.value,
    };
    return toNotebookDoc(state, { appVersion: APP_VERSION, savedAt: new Date().toISOString() });
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
    cells.value = freshRuntime(primary.value);
    outputs.clear();
  }

  async function applyDoc(doc: NotebookDoc): Promise<void> {
    const state = fromNotebookDoc(doc);
    notebookName.value = state.name;
    params.value = state.params;
    prompt.value = state.prompt;
    layout.value = state.layout;
    savedResults.value = markRaw(state.results);
    compareDoc.value = state.compare;
    contextDoc.value = state.context;
    opened.value++;
    clearRuntime();
    if (useServedModel(doc.model)) {
      modelNotice.value = null;
      markSaved();
      return;
    }
    const match = matchNotebookModel(doc.model, models.models);
    // The notebook's own model when it is there, else the current one; models with its hash are offered.
    const target = match.status === 'missing' ? models.modelId : doc.model.id;
    modelNotice.value = match.message === null ? null : { message: match.message, matches: match.matches };
    const pending = target !== models.modelId ? setModel(target) : null;
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

  /** Moves a note up or down (computed cells keep their places, so each kind's first cell stays first). */
  function moveCell(id: string, delta: -1 | 1): void {
    const index = layout.value.findIndex((c) => c.id === id);
    const to = index + delta;
    const cell = layout.value[index];
    if (!cell || isComputedCell(cell) || to < 0 || to >= layout.value.length) return;
    layout.value.splice(index, 1);
    layout.value.splice(to, 0, cell);
  }

  return {
    engine, modelId, model, prompt, params, cells, primary, cellState, loaded, loading, running, claim, progress, errorBanner, notebookName, tokens,
    forward, generation, lastRunMs, init, loadModel, setBackend, setModel, setVariant, setPrompt, setParams, runCell, stepSample, runAll, cancel,
    toDoc, tokenPiece, forwardFor, piecesFor, applyDoc, modelsListed, layout, modelNotice, nativeEngineNotice, restartNativeEngine, revision, compareDoc,
    contextDoc, noteFields, opened, isDirty, markSaved, reset, savedSummary, addNote, setNoteText, removeCell, moveCell,
  };
});
