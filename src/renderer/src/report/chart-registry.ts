import type { EChartsCoreOption } from 'echarts/core';
import type { ReportCellKey } from './report-cell';

/** A chart on screen, as the notebook report reads it: its option, caption and size. */
export interface RegisteredChart {
  name: string;
  /** The cell it is drawn in (null: outside any cell). */
  cell: ReportCellKey | null;
  option(): EChartsCoreOption;
  caption(): string;
  element(): HTMLElement | null;
  width(): number;
  height(): number;
}

const charts = new Set<RegisteredChart>();

/** Registers a chart while it is mounted; returns the function that unregisters it. */
export function registerChart(chart: RegisteredChart): () => void {
  charts.add(chart);
  return () => charts.delete(chart);
}

/** The charts on screen, in document order; with `cell`, only that cell's. */
export function registeredCharts(cell?: ReportCellKey): RegisteredChart[] {
  return [...charts]
    .filter((c) => c.element() !== null && (cell === undefined || c.cell === cell))
    .sort((a, b) => {
      const ea = a.element();
      const eb = b.element();
      if (!ea || !eb) return 0;
      return ea.compareDocumentPosition(eb) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
}
