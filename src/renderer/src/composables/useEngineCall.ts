import { errorMessage } from '../../../common/error-message';
import { computed, ref, type ComputedRef, type Ref } from 'vue';
import type { EngineClient } from '../engine/engine-client';
import { useNotebookStore } from '../stores/notebook';

/** What one engine call came to: its value, or why not (`error` null: refused, another run held the engine or no model was loaded). */
export type EngineOutcome<T> = { ok: true; value: T; isLatest: boolean } | { ok: false; error: string | null; isLatest: boolean };

export interface EngineCall {
  /** True while a call of this cell is on its way. */
  isBusy: ComputedRef<boolean>;
  /** Why the cell's latest call failed; the cell may set its own message too. */
  error: Ref<string | null>;
  run<T>(work: (engine: EngineClient) => Promise<T>): Promise<EngineOutcome<T>>;
}

/**
 * Engine calls from a cell, with its busy and error state. `exclusive` calls (a cell's own run:
 * Context, an intervention) take the notebook's run guard, so nothing else runs meanwhile and they
 * are refused while something does; `shared` calls (lookups that follow a result, such as
 * neighbours and positions) go along with a run, ordered by the engine's queue. Only the latest
 * call's failure is kept as the error, and `isLatest` says whether a later call has started since.
 */
export function useEngineCall(mode: 'exclusive' | 'shared' = 'exclusive'): EngineCall {
  const notebook = useNotebookStore();
  const pending = ref(0);
  const error = ref<string | null>(null);
  let started = 0;

  async function run<T>(work: (engine: EngineClient) => Promise<T>): Promise<EngineOutcome<T>> {
    const id = ++started;
    const isLatest = (): boolean => id === started;
    pending.value++;
    error.value = null;
    try {
      const done: { value?: { v: T } } = {};
      const call = async (): Promise<void> => {
        done.value = { v: await work(notebook.engine) };
      };
      if (mode === 'exclusive') await notebook.claim(call, false);
      else await call();
      return done.value ? { ok: true, value: done.value.v, isLatest: isLatest() } : { ok: false, error: null, isLatest: isLatest() };
    } catch (cause) {
      const text = errorMessage(cause);
      if (isLatest()) error.value = text;
      return { ok: false, error: text, isLatest: isLatest() };
    } finally {
      pending.value--;
    }
  }

  return { isBusy: computed(() => pending.value > 0), error, run };
}
