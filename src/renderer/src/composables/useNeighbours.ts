import { shallowRef, watch, type Ref } from 'vue';
import type { NeighboursResult } from '../engine/protocol';
import { useEngineCall, type EngineOutcome } from './useEngineCall';

/** What the prompt-token lookup follows: the shown forward pass's ids, the loaded model, the chosen position. */
export interface NeighboursSource {
  ids: Ref<number[] | undefined>;
  modelId: Ref<string | undefined>;
  position: Ref<number>;
}

/**
 * Nearest neighbours of one token among the model's token embeddings: the prompt token at the
 * chosen position (looked up again on a new run, model or position), or a token the user types.
 * Lookups go along with a run (the engine's queue orders them); the last one asked is the one shown.
 */
export function useNeighbours(source: NeighboursSource, k: number) {
  const call = useEngineCall('shared');
  const neighbours = shallowRef<NeighboursResult | null>(null);
  /** Said when the typed text was looked up as another token (with a leading space). */
  const note = shallowRef<string | null>(null);
  /** Whether the result shown is a typed token's, not the chosen prompt position's. */
  const showsTyped = shallowRef(false);

  /** Shows the token's neighbours while no later lookup has started; on an error the previous result goes, so it is not read as this one's. */
  async function lookUp(request: { id: number } | { text: string }): Promise<EngineOutcome<NeighboursResult>> {
    note.value = null;
    const outcome = await call.run((engine) => engine.call('embedding-neighbours', { ...request, k }).result);
    if (outcome.isLatest) neighbours.value = outcome.ok ? outcome.value : null;
    return outcome;
  }

  /**
   * A word typed without its leading space ("moon") is often several tokens, while the word as it
   * appears after a space (" moon") is one: that token is looked up instead, and the note says so.
   */
  async function lookUpTyped(text: string): Promise<void> {
    if (text.length === 0) return;
    showsTyped.value = true;
    const first = await lookUp({ text });
    if (first.ok || /^\s/.test(text)) return;
    const refusal = first.error;
    if ((await lookUp({ text: ` ${text}` })).ok) {
      // The engine's reason without its advice ("…; choose one token"), which this lookup has followed.
      const reason = refusal?.split(';')[0] ?? `"${text}" is not one token`;
      note.value = `${reason}, so this shows "␣${text}" instead: one token, the same word with the leading space it has after a space in a sentence.`;
    } else {
      call.error.value = `${refusal ?? `"${text}" is not one token`}; "␣${text}" (with a leading space) is not one token either.`;
    }
  }

  /** Looks up the prompt token at the chosen position (none when the pass has no such position). */
  function lookUpChosen(): void {
    showsTyped.value = false;
    const id = source.ids.value?.[source.position.value];
    if (id === undefined) {
      neighbours.value = null;
      return;
    }
    void lookUp({ id });
  }

  // A new run, model or chosen position looks the prompt token up again.
  watch(() => [source.ids.value?.join(','), source.modelId.value, source.position.value] as const, lookUpChosen, { immediate: true });

  return { neighbours, note, showsTyped, lookUpChosen, error: call.error, isBusy: call.isBusy, lookUpTyped };
}
