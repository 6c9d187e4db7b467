import type { EChartsCoreOption } from 'echarts/core';
import { smallMultiplesPanelBox, type PanelBox } from '../../../common/small-multiples-layout';
import type { HeadLabel, HeadStats } from '../../../engine/attention-stats';

/** Viridis: perceptually even and readable with the common forms of colour blindness. */
export const SEQUENTIAL = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#fde725'];
/** Blue to orange through white: a colour-blind safe diverging scale for signed values. */
export const DIVERGING = ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'];
const BAR = '#2a788e';
const HIGHLIGHT = '#e66101';
/** Tokens a sampler cut: grey, so kept ones stand out. */
export const CUT = '#bdbdbd';
/** Okabe–Ito: distinct series colours that stay apart with the common forms of colour blindness. */
export const SERIES = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'];

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
/** A probability as a percentage with enough digits to tell 99.96% from 100% and 0.004% from 0. */
export function formatPercent(v: number): string {
  let digits = v < 0.001 ? 3 : 1;
  if (v > 0.999 && v < 1) {
    digits = 2;
    while (digits < 6 && Number((v * 100).toFixed(digits)) >= 100) digits++;
  }
  return `${(v * 100).toFixed(digits)}%`;
}
const pct = formatPercent;

/** A scale value to two decimals with a true minus sign ("−0.34"), never "-0.00". */
export function formatScaleValue(v: number): string {
  const text = v.toFixed(2);
  return Number(text) === 0 ? '0.00' : text.replace('-', '−');
}

/**
 * Room a heatmap's grid leaves on its right for the colour scale: the bar (14 px) 8 px from the
 * edge, and its values beside it (a signed "−0.34" at 11 px is about 35 px wide).
 */
export const COLOUR_SCALE_ROOM = 100;

/**
 * The colour scale beside a heatmap: a draggable bar at the right edge with its values to the right
 * of the bar (`align: 'left'` puts the bar left of its labels), so no label runs into the plot.
 */
function colourScale(min: number, max: number, itemHeight: number): Record<string, unknown> {
  return {
    min,
    max,
    calculable: true,
    orient: 'vertical',
    right: 8,
    top: 'middle',
    align: 'left',
    itemWidth: 14,
    itemHeight,
    precision: 2,
    formatter: formatScaleValue,
    textStyle: { fontSize: 11, color: '#333333' },
  };
}

export interface HeatmapInput {
  title: string;
  /** Row labels (y axis), top to bottom. */
  rows: string[];
  /** Column labels (x axis). */
  cols: string[];
  /** Row-major values; null cells are left blank (e.g. future positions under a causal mask). */
  value: (row: number, col: number) => number | null;
  xName: string;
  yName: string;
  min: number;
  max: number;
  diverging?: boolean;
  digits?: number;
  caption?: string;
  showValues?: boolean;
  /** Text shown in a cell instead of its value (e.g. the top token), also in its tooltip. */
  cellLabel?: (row: number, col: number) => string;
  /** Sequential colour scale (default viridis); ignored when diverging. */
  palette?: readonly string[];
  /** Cell labels on a light box: readable on every colour, for labels longer than a number. */
  isLabelBoxed?: boolean;
}

/** A heatmap: rows × columns with a colour scale and exact values on hover. */
export function heatmapOption(input: HeatmapInput): EChartsCoreOption {
  const data: [number, number, number][] = [];
  input.rows.forEach((_, r) => {
    input.cols.forEach((__, c) => {
      const v = input.value(r, c);
      if (v !== null) data.push([c, r, v]);
    });
  });
  const digits = input.digits ?? 3;
  return {
    title: { text: input.title, subtext: input.caption ?? '', left: 'center', textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 11 } },
    tooltip: {
      position: 'top',
      formatter: (p: { value: [number, number, number] }) =>
        `${input.yName}: ${escapeHtml(input.rows[p.value[1]] ?? '')}<br/>${input.xName}: ${escapeHtml(input.cols[p.value[0]] ?? '')}<br/>` +
        (input.cellLabel ? `${escapeHtml(input.cellLabel(p.value[1], p.value[0]))}: ` : 'value: ') +
        `<b>${fmt(p.value[2], digits + 1)}</b>`,
    },
    grid: { left: 90, right: COLOUR_SCALE_ROOM, top: input.caption ? 58 : 40, bottom: 70 },
    xAxis: {
      type: 'category',
      data: input.cols,
      name: input.xName,
      nameLocation: 'middle',
      nameGap: 45,
      axisLabel: { rotate: input.cols.length > 8 ? 45 : 0, interval: input.cols.length > 24 ? 'auto' : 0, fontSize: 11 },
      splitArea: { show: true },
    },
    yAxis: {
      type: 'category',
      data: input.rows,
      name: input.yName,
      nameLocation: 'middle',
      nameGap: 75,
      inverse: true,
      axisLabel: { interval: 0, fontSize: 11 },
      splitArea: { show: true },
    },
    visualMap: {
      ...colourScale(input.min, input.max, 120),
      inRange: { color: input.diverging ? DIVERGING : [...(input.palette ?? SEQUENTIAL)] },
    },
    series: [
      {
        type: 'heatmap',
        data,
        label: {
          show: (input.showValues ?? false) || input.cellLabel !== undefined,
          fontSize: input.cellLabel ? 10 : 9,
          color: input.cellLabel ? '#111111' : undefined,
          textBorderColor: input.cellLabel ? '#ffffff' : undefined,
          textBorderWidth: input.cellLabel ? 2 : 0,
          formatter: (p: { value: [number, number, number] }) => (input.cellLabel ? input.cellLabel(p.value[1], p.value[0]) : fmt(p.value[2], 2)),
          ...(input.isLabelBoxed ? { fontSize: 12, lineHeight: 16, textBorderWidth: 0, backgroundColor: 'rgba(255, 255, 255, 0.88)', padding: [3, 6], borderRadius: 3 } : {}),
        },
        emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } },
      },
    ],
  };
}

export interface BarsInput {
  title: string;
  labels: string[];
  values: number[];
  xName: string;
  /** Index of a bar to highlight (the chosen token, say). */
  highlight?: number;
  /** Bars to draw as cut (in grey), e.g. tokens the sampler chain removed. */
  cut?: readonly boolean[];
  asPercent?: boolean;
  /** Counts: labels without decimals, a share of one with at most two (0.25). */
  isCount?: boolean;
  /** The tooltip adds the value itself with these digits (a percentage label rounds). */
  tooltipDigits?: number;
  caption?: string;
}

/** Horizontal bars, largest first as given, labels on the left. */
export function barsOption(input: BarsInput): EChartsCoreOption {
  // A count may hold a share of one (a byte piece is ¼ of a 4-byte character): shown as 0.25, a whole count as 4.
  const label = (v: number): string => (input.asPercent ? pct(v) : input.isCount ? String(Number(v.toFixed(2))) : fmt(v));
  return {
    title: { text: input.title, subtext: input.caption ?? '', left: 'center', textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 11 } },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: (v: number) => (input.tooltipDigits === undefined ? label(v) : `${label(v)} (${fmt(v, input.tooltipDigits)})`),
    },
    grid: { left: 110, right: 60, top: input.caption ? 58 : 40, bottom: 40 },
    xAxis: {
      type: 'value',
      name: input.xName,
      nameLocation: 'middle',
      nameGap: 25,
      axisLabel: { formatter: (v: number) => (input.asPercent ? `${Math.round(v * 100)}%` : String(v)) },
    },
    yAxis: { type: 'category', data: input.labels, inverse: true, axisLabel: { interval: 0, fontSize: 11 } },
    series: [
      {
        type: 'bar',
        data: input.values.map((v, i) => ({ value: v, itemStyle: { color: i === input.highlight ? HIGHLIGHT : input.cut?.[i] ? CUT : BAR } })),
        label: { show: true, position: 'right', formatter: (p: { value: number }) => label(p.value), fontSize: 11 },
        barMaxWidth: 22,
      },
    ],
  };
}

export interface LineInput {
  title: string;
  labels: string[];
  /** One line each; null leaves a gap (a shorter column, say). */
  series: { name: string; values: (number | null)[] }[];
  xName: string;
  yName: string;
  asPercent?: boolean;
}

/**
 * Lines over steps, e.g. the chosen token's probability per generation step. Several series get
 * colours of their own and a legend; one keeps the app's single colour.
 */
export function lineOption(input: LineInput): EChartsCoreOption {
  const isMulti = input.series.length > 1;
  const colour = (i: number): string => (isMulti ? (SERIES[i % SERIES.length] ?? BAR) : BAR);
  return {
    title: { text: input.title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => (input.asPercent ? pct(v) : fmt(v)) },
    ...(isMulti ? { legend: { data: input.series.map((s) => s.name), bottom: 0, type: 'scroll' } } : {}),
    grid: { left: 60, right: 30, top: 40, bottom: isMulti ? 80 : 60 },
    xAxis: { type: 'category', data: input.labels, name: input.xName, nameLocation: 'middle', nameGap: 40, axisLabel: { rotate: input.labels.some((l) => l.length > 4) ? 30 : 0, interval: 0 } },
    yAxis: { type: 'value', name: input.yName, min: input.asPercent ? 0 : undefined, max: input.asPercent ? 1 : undefined },
    series: input.series.map((s, i) => ({ type: 'line', name: s.name, data: s.values, connectNulls: false, symbolSize: 7, lineStyle: { color: colour(i) }, itemStyle: { color: colour(i) } })),
  };
}

/** A node of a tree chart: a label, its children, and what the tooltip says. */
export interface TreeNode {
  name: string;
  children: TreeNode[];
  /** Tooltip text. */
  detail?: string;
}

/** A tree drawn left to right, fully expanded, e.g. the branches of a comparison. */
export function treeOption(input: { title: string; root: TreeNode }): EChartsCoreOption {
  const toData = (node: TreeNode): Record<string, unknown> => ({
    name: node.name,
    value: node.detail ?? node.name,
    children: node.children.map(toData),
  });
  return {
    title: { text: input.title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'item', formatter: (p: { value?: unknown; name: string }) => escapeHtml(typeof p.value === 'string' ? p.value : p.name) },
    series: [
      {
        type: 'tree',
        data: [toData(input.root)],
        orient: 'LR',
        top: 40,
        left: 90,
        bottom: 20,
        right: 140,
        symbolSize: 7,
        initialTreeDepth: -1,
        expandAndCollapse: false,
        itemStyle: { color: BAR, borderColor: BAR },
        label: { position: 'top', fontSize: 11 },
        leaves: { label: { position: 'right', align: 'left', fontSize: 11 } },
      },
    ],
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Makes repeated labels unique for category axes ("the", "the" → "the", "the·2") while keeping them readable. */
export function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const n = (seen.get(l) ?? 0) + 1;
    seen.set(l, n);
    return n === 1 ? l : `${l}·${n}`;
  });
}

/** Colour-blind safe sequential palettes to choose from (viridis is the default). */
export const PALETTES = {
  viridis: SEQUENTIAL,
  cividis: ['#00204d', '#31446b', '#666970', '#958f78', '#cbba69', '#ffea46'],
  magma: ['#000004', '#3b0f70', '#8c2981', '#de4968', '#fe9f6d', '#fcfdbf'],
} as const satisfies Record<string, readonly string[]>;
export type PaletteName = keyof typeof PALETTES;

export interface SmallMultiplesInput {
  title: string;
  /** One heatmap each, in reading order. */
  panels: { title: string; value: (row: number, col: number) => number | null }[];
  columns: number;
  /** Row labels (y axis) shared by every panel, top to bottom. */
  rows: string[];
  /** Column labels (x axis) shared by every panel. */
  cols: string[];
  xName: string;
  yName: string;
  min: number;
  max: number;
  /** Height of one panel in pixels. */
  panelHeight: number;
  /** Token labels on the left column's and the bottom row's axes; thumbnails leave them out. */
  showAxisLabels: boolean;
  /** Panel drawn with a frame (the one the main heatmap shows). */
  selected?: number;
  palette?: readonly string[];
  digits?: number;
}

/**
 * Small multiples: one heatmap per panel in a grid of grids, one shared colour scale, exact values
 * on hover. Series i draws panel i, so a click's `seriesIndex` names the panel.
 */
export function smallMultiplesOption(input: SmallMultiplesInput): EChartsCoreOption {
  const labelled = input.showAxisLabels;
  const rowCount = Math.ceil(input.panels.length / input.columns);
  const digits = input.digits ?? 3;
  const layout = { count: input.panels.length, columns: input.columns, panelHeight: input.panelHeight, showAxisLabels: labelled };
  const place = (i: number): PanelBox => smallMultiplesPanelBox(layout, i);
  const category = (data: string[], show: boolean, rotate: number): Record<string, unknown> => ({
    type: 'category',
    data,
    axisLabel: { show, interval: 0, fontSize: 10, rotate },
    axisTick: { show },
    axisLine: { show: false },
  });
  return {
    title: [
      { text: input.title, left: 'center', textStyle: { fontSize: 13 } },
      ...input.panels.map((p, i) => {
        const at = place(i);
        return {
          text: p.title,
          left: `${at.leftPct + at.widthPct / 2}%`,
          top: at.top - 18,
          textAlign: 'center',
          textStyle: { fontSize: 11, fontWeight: i === input.selected ? 'bold' : 'normal', color: i === input.selected ? HIGHLIGHT : '#333333' },
        };
      }),
    ],
    tooltip: {
      formatter: (p: { seriesIndex: number; value: [number, number, number] }) =>
        `${escapeHtml(input.panels[p.seriesIndex]?.title ?? '')}<br/>${input.yName}: ${escapeHtml(input.rows[p.value[1]] ?? '')}<br/>` +
        `${input.xName}: ${escapeHtml(input.cols[p.value[0]] ?? '')}<br/>weight: <b>${fmt(p.value[2], digits + 1)}</b>`,
    },
    grid: input.panels.map((_, i) => {
      const at = place(i);
      const isSelected = i === input.selected;
      return {
        left: `${at.leftPct}%`,
        width: `${at.widthPct}%`,
        top: at.top,
        height: input.panelHeight,
        show: isSelected,
        borderColor: HIGHLIGHT,
        borderWidth: isSelected ? 3 : 0,
        backgroundColor: 'transparent',
      };
    }),
    xAxis: input.panels.map((_, i) => ({ ...category(input.cols, labelled && place(i).isBottom, input.cols.length > 4 ? 45 : 0), gridIndex: i })),
    yAxis: input.panels.map((_, i) => ({ ...category(input.rows, labelled && place(i).isLeft, 0), gridIndex: i, inverse: true })),
    visualMap: {
      ...colourScale(input.min, input.max, Math.min(120, Math.max(60, rowCount * input.panelHeight - 40))),
      seriesIndex: input.panels.map((_, i) => i),
      inRange: { color: [...(input.palette ?? SEQUENTIAL)] },
    },
    series: input.panels.map((panel, i) => {
      const data: [number, number, number][] = [];
      input.rows.forEach((__, r) => {
        input.cols.forEach((___, c) => {
          const v = panel.value(r, c);
          if (v !== null) data.push([c, r, v]);
        });
      });
      return { type: 'heatmap', name: panel.title, xAxisIndex: i, yAxisIndex: i, data, emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } } };
    }),
  };
}

export interface AttentionLinesInput {
  title: string;
  /** Token labels, shown on both sides: queries on the left, keys on the right. */
  labels: string[];
  /** Weights as [query][key]. */
  weights: number[][];
  /** Lines below this weight are not drawn (they would be invisible). */
  minWeight: number;
}

const LINE_COLOUR = '#0072b2';
/**
 * Node coordinates of the lines view, near the pixels they land on in a notebook-wide chart. In units
 * of 0 … 1 the view's scale is far from uniform, and ECharts' crisp-line rounding (half a unit) then
 * moves a level line by half a row.
 */
export const LINES_SPAN_X = 740;
export const LINES_ROW_Y = 30;

/**
 * The lines view: tokens in two columns, the attending (query) tokens on the left and the attended
 * (key) tokens on the right, one line per weight, its width and opacity growing with the weight.
 */
export function attentionLinesOption(input: AttentionLinesInput): EChartsCoreOption {
  const n = input.labels.length;
  const nodes = [
    ...input.labels.map((label, i) => ({ name: `q${i}`, x: 0, y: i * LINES_ROW_Y, value: label, label: { position: 'left' } })),
    ...input.labels.map((label, i) => ({ name: `k${i}`, x: LINES_SPAN_X, y: i * LINES_ROW_Y, value: label, label: { position: 'right' } })),
  ];
  const links: Record<string, unknown>[] = [];
  input.weights.forEach((row, q) =>
    row.forEach((w, k) => {
      if (w < input.minWeight) return;
      links.push({ source: `q${q}`, target: `k${k}`, value: w, lineStyle: { width: 0.5 + 9.5 * w, opacity: Math.min(1, 0.08 + 0.92 * w), color: LINE_COLOUR } });
    }),
  );
  return {
    title: { text: input.title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: {
      formatter: (p: { dataType: string; data: { source?: string; target?: string; value?: number | string } }) => {
        if (p.dataType === 'edge') {
          const q = Number(p.data.source?.slice(1));
          const k = Number(p.data.target?.slice(1));
          return `${escapeHtml(input.labels[q] ?? '')} → ${escapeHtml(input.labels[k] ?? '')}<br/>weight: <b>${fmt(Number(p.data.value), 4)}</b>`;
        }
        return escapeHtml(String(p.data.value ?? ''));
      },
    },
    series: [
      {
        type: 'graph',
        layout: 'none',
        left: 130,
        right: 130,
        top: 64,
        bottom: 20,
        roam: false,
        symbolSize: 7,
        itemStyle: { color: '#333333' },
        label: { show: true, fontSize: 12, formatter: (p: { value: string }) => p.value },
        edgeSymbol: ['none', 'none'],
        lineStyle: { curveness: 0 },
        emphasis: { focus: 'adjacency', lineStyle: { opacity: 1 } },
        data: n > 0 ? nodes : [],
        links,
      },
    ],
  };
}

const SHORT_LABEL: Record<HeadLabel, string> = { 'previous-token': 'prev', 'first-token sink': 'sink', self: 'self' };

/**
 * Head statistics as a layers × heads grid: the colour is the mean entropy in bits, each cell names
 * the head's labels, the tooltip gives every figure.
 */
export function headStatsOption(input: { title: string; stats: HeadStats[]; layers: number; heads: number; maxBits: number; palette?: readonly string[] }): EChartsCoreOption {
  const find = (layer: number, head: number): HeadStats | undefined => input.stats.find((s) => s.layer === layer && s.head === head);
  const layerLabels = Array.from({ length: input.layers }, (_, l) => `layer ${l}`);
  const headLabels = Array.from({ length: input.heads }, (_, h) => `head ${h}`);
  const base = heatmapOption({
    title: input.title,
    rows: layerLabels,
    cols: headLabels,
    value: (l, h) => {
      const bits = find(l, h)?.entropyBits;
      return bits === undefined || Number.isNaN(bits) ? null : bits;
    },
    xName: 'head',
    yName: 'layer',
    min: 0,
    max: Math.max(input.maxBits, 1e-9),
    palette: input.palette,
    isLabelBoxed: true,
    cellLabel: (l, h) => {
      const s = find(l, h);
      return s ? [`${fmt(s.entropyBits, 2)} bits`, s.labels.map((x) => SHORT_LABEL[x]).join(', ')].filter(Boolean).join(' · ') : '';
    },
  });
  return {
    ...base,
    tooltip: {
      formatter: (p: { value: [number, number, number] }) => {
        const s = find(p.value[1], p.value[0]);
        if (!s) return '';
        return (
          `layer ${s.layer}, head ${s.head}<br/>mean entropy: <b>${fmt(s.entropyBits, 4)} bits</b> (normalised ${fmt(s.entropyNormalised, 4)})<br/>` +
          `on previous token: ${fmt(s.previous, 4)}<br/>on first token: ${fmt(s.first, 4)}<br/>on itself: ${fmt(s.self, 4)}<br/>` +
          `labels: ${s.labels.length ? escapeHtml(s.labels.join(', ')) : 'none'}`
        );
      },
    },
  };
}
