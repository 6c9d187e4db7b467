import { errorMessage } from '../common/error-message';
import type { CellKind } from '../common/cells';
import { isComputedCell, isNoteCell, type NotebookDoc } from '../common/notebook-format';

/** What `ntl run` reports of one cell: a note's text, a result, the reason it failed, or why it was skipped. */
export interface CellOutcome {
  id: string;
  kind: string;
  result?: unknown;
  error?: string;
  text?: string;
  skipped?: string;
}

/**
 * Every cell of a notebook in order: notes as their text, cells of a kind this version does not know
 * kept and skipped, each computed cell through `compute` (local or on a server); a cell's failure is
 * its own and the next cell still runs.
 */
export async function runCells(doc: NotebookDoc, compute: (kind: CellKind, params: unknown) => Promise<unknown>): Promise<CellOutcome[]> {
  const cells: CellOutcome[] = [];
  for (const cell of doc.cells) {
    if (isNoteCell(cell)) {
      cells.push({ id: cell.id, kind: cell.kind, text: cell.text });
      continue;
    }
    if (!isComputedCell(cell)) {
      cells.push({ id: cell.id, kind: cell.kind, skipped: `cell kind "${cell.kind}" is not known to this version of ntl; kept unchanged in the file` });
      continue;
    }
    try {
      cells.push({ id: cell.id, kind: cell.kind, result: await compute(cell.kind, cell.params) });
    } catch (cause) {
      cells.push({ id: cell.id, kind: cell.kind, error: errorMessage(cause) });
    }
  }
  return cells;
}
