import type { CellStatus } from '../../../common/cells';

/** What a cell's status badge says; `ms` is the last run's time when it has one. */
export function statusLabel(status: CellStatus, ms: number | null = null): string {
  switch (status) {
    case 'idle':
      return 'not run';
    case 'stale':
      return 'out of date';
    case 'running':
      return 'running…';
    case 'done':
      // A cell that reads a forward pass already run takes well under a millisecond: "0 ms" read as an error.
      if (ms === null) return 'done';
      return ms < 1 ? 'done in under 1 ms' : `done in ${ms.toFixed(0)} ms`;
    case 'error':
      return 'error';
  }
}
