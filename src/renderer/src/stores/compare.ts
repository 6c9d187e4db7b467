import { errorMessage as message } from '../../../common/error-message';
import { defineStore } from 'pinia';
import { computed, markRaw, ref, watch } from 'vue';
import { ColumnSpec, CompareSpec } from '../../../engine/compare';
import { forkState, type Alternative } from '../../../engine/compare-step';
import { SeededRandom } from '../../../engine/rng';
import { presetSettings, SamplingStrategy } from '../../../common/sampling-strategy';
import type { CompareDoc } from '../../../common/notebook-format';
import type { CompareColumn } from '../cells/compare-data';
import { useNotebookStore } from './notebook';

export const MIN_COLUMNS = 2;
export const MAX_COLUMNS = 6;

export type CompareStatus = 'idle' | 'running' | 'done' | 'error' | 'stale';

const NAMES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The comparison a new notebook starts with. */
const DEFAULT_SETUP: CompareDoc = {
  maxTokens: 8,
  columns: [
    { name: 'A', seed: 42, strategy: { strategy: 'greedy' } },
    { name: 'B', seed: 42, strategy: { strategy: 'top-k', temperature: 0.8, topK: 5 } },
  ],
};

/** Whether two set-ups save the same (the strategies are flat objects of a name and numbers). */
export function isSameSetup(a: CompareDoc, b: CompareDoc): boolean {
  const sameStrategy = (x: SamplingStrategy, y: SamplingStrategy): boolean => {
    const other = new Map(Object.entries(y));
    const entries = Object.entries(x);
    return entries.length === other.size && entries.every(([k, v]) => other.get(k) === v);
  };
  return (
    a.maxTokens === b.maxTokens &&
    a.columns.length === b.columns.length &&
    a.columns.every((c, i) => {
      const d = b.columns[i];
      return d !== undefined && c.name === d.name && c.seed === d.seed && sameStrategy(c.strategy, d.strategy);
    })
  );
}


/**
 * The Compare cell: 2 to 6 columns decoding the notebook's prompt with the notebook's model, each
 * with its own preset and seed. Every column gets one token a step; columns of equal length share a
 * batched forward pass, and each column's tokens are exactly those of `ntl generate`.
 */
export const useCompareStore = defineStore('compare', () => {
  const notebook = useNotebookStore();
  let nextKey = 1;
  const column = (name: string, strategy: SamplingStrategy, seed: number): CompareColumn => ({ key: nextKey++, name, strategy, seed, parent: null, state: null, details: [], elapsedMs: 0 });
  const columns = ref<CompareColumn[]>([]);
  const maxTokens = ref(DEFAULT_SETUP.maxTokens);
  const status = ref<CompareStatus>('idle');
  const error = ref<string | null>(null);
  const running = ref(false);
  /** The prompt ids the columns' generations start from. */
  const promptIds = ref<number[]>([]);
  const selected = ref<{ key: number; step: number } | null>(null);
  let isCancelRequested = false;

  const hasGeneration = computed(() => columns.value.some((c) => c.state !== null));

  /** Takes the columns from the notebook's saved set-up (its default when it has none); nothing generated yet. */
  function loadSetup(): void {
    const setup = notebook.compareDoc ?? DEFAULT_SETUP;
    columns.value = setup.columns.map((c) => column(c.name, { ...c.strategy }, c.seed));
    maxTokens.value = setup.maxTokens;
    promptIds.value = [];
    selected.value = null;
    error.value = null;
    status.value = 'idle';
  }
  loadSetup();
  watch(() => notebook.opened, loadSetup);

  /** Tells the notebook the set-up it saves after a change of the columns; the notebook changes (and autosaves) only when it differs. */
  function publish(): void {
    const next: CompareDoc = { maxTokens: maxTokens.value, columns: columns.value.map((c) => ({ name: c.name, seed: c.seed, strategy: { ...c.strategy } })) };
    if (!isSameSetup(next, notebook.compareDoc ?? DEFAULT_SETUP)) notebook.compareDoc = next;
  }

  watch(
    () => [notebook.prompt, notebook.modelId],
    () => {
      if (hasGeneration.value && status.value !== 'running') status.value = 'stale';
    },
  );

  function freeName(): string {
    const used = new Set(columns.value.map((c) => c.name));
    return [...NAMES].find((n) => !used.has(n)) ?? `column ${nextKey}`;
  }

  /** Adds a column (greedy, seed 42); returns why not when there are already six. */
  function addColumn(): string | null {
    if (columns.value.length >= MAX_COLUMNS) return `a comparison has at most ${MAX_COLUMNS} columns`;
    columns.value.push(column(freeName(), { strategy: 'greedy' }, 42));
    publish();
    return null;
  }

  function removeColumn(key: number): string | null {
    if (columns.value.length <= MIN_COLUMNS) return `a comparison needs at least ${MIN_COLUMNS} columns`;
    columns.value = columns.value.filter((c) => c.key !== key);
    if (selected.value?.key === key) selected.value = null;
    publish();
    return null;
  }

  function clearGeneration(c: CompareColumn): void {
    c.state = null;
    c.details = [];
    c.elapsedMs = 0;
    c.parent = null;
    if (selected.value?.key === c.key) selected.value = null;
  }

  /** Changes a column's settings (validated by the schemas of `ntl compare`); returns the message when refused. */
  function setColumn(key: number, patch: { name?: string; strategy?: unknown; seed?: number }): string | null {
    const c = columns.value.find((x) => x.key === key);
    if (!c) return 'no such column';
    let strategy = c.strategy;
    if (patch.strategy !== undefined) {
      const parsed = SamplingStrategy.safeParse(patch.strategy);
      if (!parsed.success) return parsed.error.issues[0]?.message ?? 'invalid strategy';
      strategy = parsed.data;
    }
    const spec = ColumnSpec.safeParse({ name: patch.name ?? c.name, seed: patch.seed ?? c.seed, strategy });
    if (!spec.success) return spec.error.issues[0]?.message ?? 'invalid column';
    const changesDecoding = patch.strategy !== undefined || (patch.seed !== undefined && patch.seed !== c.seed);
    c.name = spec.data.name;
    c.seed = spec.data.seed;
    if (spec.data.strategy) c.strategy = spec.data.strategy;
    if (changesDecoding) clearGeneration(c);
    publish();
    return null;
  }

  function setMaxTokens(n: number): string | null {
    const parsed = CompareSpec.shape.maxTokens.safeParse(n);
    if (!parsed.success) return parsed.error.issues[0]?.message ?? 'invalid number of tokens';
    maxTokens.value = parsed.data;
    publish();
    return null;
  }

  /** Makes sure the prompt is tokenized; starts every column over when the prompt or model changed. */
  async function prepare(): Promise<boolean> {
    if (notebook.cellState('tokenize').status !== 'done') await notebook.runCell('tokenize');
    if (notebook.cellState('tokenize').status !== 'done' || !notebook.tokens) {
      error.value = notebook.cellState('tokenize').error ?? 'The prompt could not be tokenized.';
      status.value = 'error';
      return false;
    }
    const ids = notebook.tokens.pieces.map((p) => p.id);
    if (status.value === 'stale' || ids.length !== promptIds.value.length || ids.some((id, i) => id !== promptIds.value[i])) {
      promptIds.value = ids;
      for (const c of columns.value) {
        clearGeneration(c);
      }
    }
    return true;
  }

  /**
   * One more token for each of `due` in one engine call (columns of equal length share a batched
   * forward pass); returns the columns that could go on (not stopped, context not full).
   */
  async function stepColumns(due: CompareColumn[]): Promise<CompareColumn[]> {
    const live = due.filter((c) => (c.state?.stopReason ?? null) === null);
    if (live.length === 0) return [];
    // Plain copies: reactive proxies cannot cross to the worker.
    const items = live.map((c) => {
      const current = c.state ?? { ids: [...promptIds.value], steps: [], rngState: new SeededRandom(c.seed).snapshot, stopReason: null };
      return { state: { ...current, ids: [...current.ids], steps: current.steps.map((s) => ({ ...s })) }, sampling: presetSettings({ ...c.strategy }) };
    });
    const results = await notebook.engine.call('compare-steps', { items }).result;
    const moved: CompareColumn[] = [];
    live.forEach((c, i) => {
      const result = results[i];
      if (!result) return;
      c.state = markRaw(result.state);
      if (result.detail) {
        c.details = markRaw([...c.details, markRaw(result.detail)]);
        c.elapsedMs += result.detail.ms;
        moved.push(c);
      }
    });
    return moved;
  }

  /** Steps the columns in turns, one token each per turn, until each has `target(column)` tokens. */
  async function advance(target: (c: CompareColumn) => number): Promise<void> {
    if (running.value || notebook.running) return;
    if (!notebook.loaded) {
      error.value = 'No model is loaded yet.';
      status.value = 'error';
      return;
    }
    if (!(await prepare())) return;
    // The notebook's run guard: its cells wait while the comparison uses the engine, and the other way round.
    running.value = true;
    try {
      await notebook.claim(async () => {
        status.value = 'running';
        error.value = null;
        isCancelRequested = false;
        const targets = new Map(columns.value.map((c) => [c.key, target(c)]));
        let isMoving = true;
        while (isMoving && !isCancelRequested) {
          const due = columns.value.filter((c) => (c.state?.steps.length ?? 0) < (targets.get(c.key) ?? 0));
          isMoving = due.length > 0 && (await stepColumns(due)).length > 0;
        }
        status.value = 'done';
      }, false);
    } catch (cause) {
      error.value = message(cause);
      status.value = 'error';
    } finally {
      running.value = false;
    }
  }

  /** Stops a run after the step in progress; the columns keep what they have. */
  function cancel(): void {
    isCancelRequested = true;
  }

  /** Every column one more token. */
  const step = (): Promise<void> => advance((c) => (c.state?.steps.length ?? 0) + 1);
  /** Every column on to `maxTokens` tokens (a fresh fork catches up with the others). */
  const run = (): Promise<void> => advance(() => maxTokens.value);

  /**
   * A new column forked from `key`'s step `step` (1-based): its tokens up to the step before, then
   * `alternative`; same settings, and the generator's state after that step. Returns why not.
   */
  function fork(key: number, step: number, alternative: Alternative): string | null {
    if (columns.value.length >= MAX_COLUMNS) return `a comparison has at most ${MAX_COLUMNS} columns: remove one to fork`;
    const from = columns.value.find((c) => c.key === key);
    if (!from?.state) return 'that column has not been generated';
    const forked = forkState(promptIds.value, from.state.steps, from.details, step - 1, alternative);
    const c = column(freeName(), { ...from.strategy }, from.seed);
    c.parent = { key: from.key, name: from.name, step };
    c.state = markRaw(forked.state);
    c.details = markRaw(forked.details);
    columns.value.push(c);
    selected.value = { key: c.key, step };
    publish();
    return null;
  }

  function select(key: number, step: number): void {
    selected.value = { key, step };
  }

  return { columns, maxTokens, status, error, running, promptIds, selected, addColumn, removeColumn, setColumn, setMaxTokens, step, run, cancel, fork, select };
});
