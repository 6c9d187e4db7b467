import { CELL_KINDS, type CellKind, type CellParams } from '../../../common/cells';
import { isCellKind, type NotebookCell, type NotebookDoc } from '../../../common/notebook-format';

/**
 * The saved cells in their order: a known kind by name (its params live in the store), any other
 * cell (a note, or a kind from a newer app) as it was read, so that saving writes it back unchanged.
 */
export type CellLayout = readonly (CellKind | NotebookCell)[];

export const DEFAULT_LAYOUT: CellLayout = CELL_KINDS;

export function layoutOf(doc: NotebookDoc): CellLayout {
  return doc.cells.map((cell) => (isCellKind(cell.kind) ? cell.kind : { ...cell }));
}

/** The results read with a notebook for the cells kept as they were (the store recomputes the others). */
export function keptResultsOf(doc: NotebookDoc): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const cell of doc.cells) {
    if (!isCellKind(cell.kind) && doc.results && Object.hasOwn(doc.results, cell.id)) kept[cell.id] = doc.results[cell.id];
  }
  return kept;
}

/** The cells to save: the layout's order, known kinds once each with their current params, every known kind present. */
export function cellsToSave(layout: CellLayout, params: CellParams): NotebookCell[] {
  const known = (kind: CellKind): NotebookCell => ({ id: kind, kind, params: { ...params[kind] } });
  const seen = new Set<CellKind>();
  const cells: NotebookCell[] = [];
  for (const entry of layout) {
    if (typeof entry !== 'string') cells.push(entry);
    else if (!seen.has(entry)) {
      seen.add(entry);
      cells.push(known(entry));
    }
  }
  for (const kind of CELL_KINDS) if (!seen.has(kind)) cells.push(known(kind));
  return cells;
}
