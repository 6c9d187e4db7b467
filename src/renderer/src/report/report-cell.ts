import { inject, onBeforeUnmount, provide, type InjectionKey } from 'vue';
import type { CellKind } from '../../../common/cells';

/** The cells the report lists: the computed kinds, Compare and Context. */
export type ReportCellKey = CellKind | 'compare' | 'context';

/** What a cell on screen tells the report besides its charts. */
export interface ReportCellInfo {
  status(): string;
  /** Text results to print (Compare's generated text per column). */
  texts?(): { label: string; text: string }[];
}

const REPORT_CELL: InjectionKey<ReportCellKey> = Symbol('report-cell');
const cells = new Map<ReportCellKey, ReportCellInfo>();

/**
 * Called by a cell's root component while it is mounted: every chart drawn inside it registers as
 * that cell's, and the report reads the cell's status here, so it never looks through the page for
 * test ids or headings.
 */
export function provideReportCell(key: ReportCellKey, info: ReportCellInfo): void {
  provide(REPORT_CELL, key);
  cells.set(key, info);
  onBeforeUnmount(() => {
    if (cells.get(key) === info) cells.delete(key);
  });
}

/** The cell a chart is drawn in; null outside any cell. */
export function injectReportCell(): ReportCellKey | null {
  return inject(REPORT_CELL, null);
}

/** A cell on screen, or null when it is not shown. */
export function reportCell(key: ReportCellKey): ReportCellInfo | null {
  return cells.get(key) ?? null;
}
