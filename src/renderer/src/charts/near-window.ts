import { yieldToWindow } from '../yield-to-window';

/**
 * Whether an element's box is within `margin` pixels of the window, above or below. One not shown
 * (in a closed panel, `display: none`) has no box and is never near.
 */
export function isNearWindow(element: Element, margin: number): boolean {
  const box = element.getBoundingClientRect();
  return box.height > 0 && box.bottom > -margin && box.top < window.innerHeight + margin;
}

const waiting = new Map<Element, { margin: number; onNear: () => void }>();
let isProbing = false;

function probe(): void {
  isProbing = false;
  const entries = [...waiting];
  waiting.clear();
  // Every box read in one go: the layout is computed once for all, not once per chart.
  const near = entries.filter(([element, { margin }]) => isNearWindow(element, margin));
  for (const [, { onNear }] of near) onNear();
}

/**
 * Calls `onNear` in a task soon after (one for all the elements asked for meanwhile) if `element` is
 * near the window then; else never (an IntersectionObserver, whose first report waits for the
 * window's next rendering, covers the rest). Returns a cancel.
 */
export function probeNearWindow(element: Element, margin: number, onNear: () => void): () => void {
  waiting.set(element, { margin, onNear });
  if (!isProbing) {
    isProbing = true;
    void yieldToWindow().then(probe);
  }
  return () => {
    waiting.delete(element);
  };
}
