import type { EChartsCoreOption } from 'echarts/core';

/** Viridis: perceptually even and readable with the common forms of colour blindness. */
export const SEQUENTIAL = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#fde725'];
/** Blue to orange through white: a colour-blind safe diverging scale for signed values. */
export const DIVERGING = ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'];
const BAR = '#2a788e';
/** The one mark that stands out: a highlighted bar, the selected panel of small multiples. */
export const HIGHLIGHT = '#e66101';
/** Tokens a sampler cut: grey, so kept ones stand out. */
export const CUT = '#bdbdbd';
/** Okabe–Ito: distinct series colours that stay apart with the common forms of colour blindness. */
export const SERIES = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'];

/** A value with fixed digits, non-finite values spelled as they are. */
export const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
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
export function colourScale(min: number, max: number, itemHeight: number): Record<string, unknown> {
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
