import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';
import { whenIdle } from './yield-to-window';

/**
 * How many of a list's parts to build: `first` (what the first screen shows) at once, then one
 * more per idle task until all are built, and from then on every part (Infinity). Building the
 * notebook's cells in one go was a single task of 110–450 ms at start (issue 18); one cell is a
 * short one, and the cells below the first screen appear under it, so nothing on screen moves.
 */
export function useMountInParts(total: () => number, first: number): Ref<number> {
  const shown = ref(first);
  let cancel: (() => void) | null = null;
  const step = (): void => {
    cancel = null;
    if (shown.value >= total()) {
      shown.value = Infinity;
      return;
    }
    shown.value++;
    cancel = whenIdle(step, 200);
  };
  onMounted(() => {
    cancel = whenIdle(step, 200);
  });
  onBeforeUnmount(() => cancel?.());
  return shown;
}
