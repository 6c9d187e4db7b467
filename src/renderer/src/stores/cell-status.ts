import type { CellStatus } from '../../../common/cells';

/** A cell's runtime part (the saved part is its `CellDoc`): what the UI shows about its last run. */
export interface CellRuntime {
  status: CellStatus;
  error: string | null;
  /** How long the last successful run took. */
  ms: number | null;
}

/** What happens to a cell: its run starts, ends or fails; what it reads changes; it is started afresh. */
export type CellMessage =
  | { type: 'run-started' }
  | { type: 'result'; ms: number }
  | { type: 'failed'; error: string }
  /** The prompt or a parameter it reads changed. */
  | { type: 'input-changed' }
  /** Another model, variant or backend: results belong to the one that computed them. */
  | { type: 'model-changed' }
  /** A new or opened notebook: nothing has run. */
  | { type: 'cleared' };

export const IDLE: CellRuntime = Object.freeze({ status: 'idle', error: null, ms: null });

/**
 * The one place a cell's status changes (marimo's `transitionCell` as model): the next runtime
 * state, a new object, for a cell in `cell` receiving `message`.
 * A cell that has not run, or is running, is not out of date: only a shown result or error can be.
 */
export function transitionCell(cell: CellRuntime, message: CellMessage): CellRuntime {
  switch (message.type) {
    case 'run-started':
      return { ...cell, status: 'running', error: null };
    case 'result':
      return { status: 'done', error: null, ms: message.ms };
    case 'failed':
      return { ...cell, status: 'error', error: message.error };
    case 'input-changed':
    case 'model-changed':
      return cell.status === 'done' || cell.status === 'error' ? { ...cell, status: 'stale' } : cell;
    case 'cleared':
      return { ...IDLE };
    default: {
      const unknown: never = message;
      throw new Error(`unknown cell message ${JSON.stringify(unknown)}`);
    }
  }
}

/** Whether a cell's last result is on screen (up to date, or kept and marked out of date). */
export function isShown(cell: CellRuntime | undefined): boolean {
  return cell?.status === 'done' || cell?.status === 'stale';
}
