/**
 * Charts are drawn one per task: a run that changes twenty charts would otherwise draw them all in
 * one task and hold the window for hundreds of milliseconds (issue 18: no task over 50 ms). Charts
 * on screen go first, then the rest near it; between two charts the window handles input and paints.
 */
interface DrawJob {
  draw: () => void;
  /** Whether the chart is on screen now (drawn before those that are only near it). */
  isOnScreen: () => boolean;
}

const jobs = new Map<object, DrawJob>();
let draining = false;

/** Lets the window do other work: `scheduler.yield` where the browser has it, else a new task. */
function yieldToWindow(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
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
      await yieldToWindow();
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
}

/** Forgets `owner`'s job (its chart is gone). */
export function cancelDraw(owner: object): void {
  jobs.delete(owner);
}
