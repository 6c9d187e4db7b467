/**
 * Where the panels of a small-multiples chart sit. The renderer's option builder lays them out with
 * it, and end-to-end tests use it to click a given panel on the canvas.
 */
export interface MultiplesLayout {
  /** Number of panels, in reading order. */
  count: number;
  columns: number;
  /** Height of one panel in pixels. */
  panelHeight: number;
  /** Whether the left column and bottom row carry axis labels (which take room). */
  showAxisLabels: boolean;
}

export interface PanelBox {
  /** Left edge and width in percent of the chart's width. */
  leftPct: number;
  widthPct: number;
  /** Top edge and height in pixels. */
  top: number;
  height: number;
  isLeft: boolean;
  isBottom: boolean;
}

/** Room for the title, the export caption and the first row's panel titles. */
const TOP = 62;
const PANEL_TITLE = 18;

const stepY = (layout: MultiplesLayout): number => layout.panelHeight + (layout.showAxisLabels ? 56 : 24);

/** Height in pixels the panels need. */
export function smallMultiplesHeight(layout: MultiplesLayout): number {
  return TOP + Math.ceil(layout.count / layout.columns) * stepY(layout) + 8;
}

/** Where panel i sits. */
export function smallMultiplesPanelBox(layout: MultiplesLayout, i: number): PanelBox {
  const labelled = layout.showAxisLabels;
  const rowCount = Math.ceil(layout.count / layout.columns);
  const leftPct = labelled ? 9 : 2;
  const rightPct = 9;
  const gapPct = labelled ? 2.5 : 1.5;
  const widthPct = (100 - leftPct - rightPct - gapPct * (layout.columns - 1)) / layout.columns;
  const r = Math.floor(i / layout.columns);
  const c = i % layout.columns;
  return {
    leftPct: leftPct + c * (widthPct + gapPct),
    widthPct,
    top: TOP + r * stepY(layout) + PANEL_TITLE,
    height: layout.panelHeight,
    isLeft: c === 0,
    isBottom: r === rowCount - 1 || i + layout.columns >= layout.count,
  };
}
