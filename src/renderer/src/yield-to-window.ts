/**
 * Lets the window do other work (input, the engine's answers, a paint) before going on:
 * `scheduler.yield` where the browser has it (the rest of the work keeps its place, ahead of new
 * tasks), else a new task.
 */
export function yieldToWindow(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs `next` when the window is idle (or after `timeout` ms at the latest), in a task of its own; returns a cancel. */
export function whenIdle(next: () => void, timeout: number): () => void {
  if (typeof requestIdleCallback === 'function') {
    const handle = requestIdleCallback(next, { timeout });
    return () => cancelIdleCallback(handle);
  }
  const handle = setTimeout(next, 0);
  return () => clearTimeout(handle);
}
