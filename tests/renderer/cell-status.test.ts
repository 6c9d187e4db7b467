import { describe, expect, it } from 'vitest';
import type { CellStatus } from '../../src/common/cells';
import { IDLE, isShown, transitionCell, type CellMessage, type CellRuntime } from '../../src/renderer/src/stores/cell-status';

const at = (status: CellStatus, error: string | null = null, ms: number | null = null): CellRuntime => ({ status, error, ms });
const STATUSES: CellStatus[] = ['idle', 'stale', 'running', 'done', 'error'];

describe('transitionCell: how a cell status changes', () => {
  it('runs: started clears the last error and keeps the last time; a result sets the time; a failure keeps it', () => {
    const started = transitionCell(at('error', 'the prompt is empty', 12), { type: 'run-started' });
    expect(started).toEqual(at('running', null, 12));
    expect(transitionCell(started, { type: 'result', ms: 3.5 })).toEqual(at('done', null, 3.5));
    expect(transitionCell(started, { type: 'failed', error: 'Cancelled.' })).toEqual(at('error', 'Cancelled.', 12));
  });

  it('goes out of date on a changed input or model only when it shows a result or an error', () => {
    for (const type of ['input-changed', 'model-changed'] as const) {
      const after = Object.fromEntries(STATUSES.map((s) => [s, transitionCell(at(s, s === 'error' ? 'boom' : null, 1), { type }).status]));
      expect(after).toEqual({ idle: 'idle', stale: 'stale', running: 'running', done: 'stale', error: 'stale' });
    }
    // The error that went out of date is still said (the cell shows it under the out-of-date note).
    expect(transitionCell(at('error', 'boom'), { type: 'input-changed' }).error).toBe('boom');
  });

  it('starts afresh when cleared, from any status, and never changes the cell it was given', () => {
    for (const status of STATUSES) {
      const cell = Object.freeze(at(status, 'x', 9));
      expect(transitionCell(cell, { type: 'cleared' })).toEqual(IDLE);
    }
    const frozen = Object.freeze(at('done', null, 2));
    const messages: CellMessage[] = [{ type: 'run-started' }, { type: 'result', ms: 1 }, { type: 'failed', error: 'e' }, { type: 'input-changed' }, { type: 'model-changed' }, { type: 'cleared' }];
    for (const message of messages) expect(() => transitionCell(frozen, message)).not.toThrow();
    expect(frozen).toEqual(at('done', null, 2));
  });

  it('refuses a message it does not know, by name', () => {
    expect(() => transitionCell(IDLE, { type: 'queued' } as unknown as CellMessage)).toThrow(/unknown cell message .*queued/);
  });

  it('shows a result while done or out of date only', () => {
    expect(STATUSES.filter((s) => isShown(at(s)))).toEqual(['stale', 'done']);
    expect(isShown(undefined)).toBe(false);
  });
});
