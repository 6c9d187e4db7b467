/**
 * Charts are drawn one per task: a run that changes twenty charts would otherwise draw them all in
 * one task and hold the window for hundreds of milliseconds (issue 18: no task over 50 ms). Charts
 * on screen go first, each as soon as the window has handled what waits (input, the engine's
 * answers, a paint); charts off screen wait for the window's idle time, so they never hold up what
 * is seen or a run that is still going.
 */
import { whenIdle, yieldToWindow } from '../yield-to-window';

interface DrawJob {
  draw: () => void;
  /** Whether the chart is on screen now (drawn before those that are only near it). */
  isOnScreen: () => boolean;
}

const jobs = new Map<object, DrawJob>();
let draining = false;
/** Ends the wait for idle time early: a chart on screen was asked for meanwhile. */
let wake: (() => void) | null = null;

/** Waits for the window's idle time (at most a second), or until `wake` is called. */
function idleTime(): Promise<void> {
  return new Promise((resolve) => {
    const cancel = whenIdle(() => done(), 1000);
    const done = (): void => {
      cancel();
      if (wake === done) wake = null;
      resolve();
    };
    wake = done;
  });
}

function next(): [object, DrawJob] | undefined {
  let first: [object, DrawJob] | undefined;
  for (const entry of jobs) {
    if (entry[1].isOnScreen()) return entry;
    first ??= entry;
  }
  return first;
}

async function drain(): Promise<void> {
  draining = true;
  try {
    for (;;) {
      const waiting = next();
      if (!waiting) return;
      await (waiting[1].isOnScreen() ? yieldToWindow() : idleTime());
      // What to draw is chosen again: the page may have scrolled, or a chart come on screen.
      const entry = next();
      if (!entry) return;
      jobs.delete(entry[0]);
      try {
        entry[1].draw();
      } catch (cause) {
        // One chart's failure is that chart's (ECharts reports it); the others are still drawn.
        console.error(cause);
      }
    }
  } finally {
    draining = false;
  }
}

/** Draws `job` in a task of its own; a later job for the same `owner` replaces one not drawn yet. */
export function scheduleDraw(owner: object, job: DrawJob): void {
  jobs.delete(owner);
  jobs.set(owner, job);
  if (!draining) void drain();
  else if (wake && job.isOnScreen()) wake();
}

/** Forgets `owner`'s job (its chart is gone). */
export function cancelDraw(owner: object): void {
  jobs.delete(owner);
}
