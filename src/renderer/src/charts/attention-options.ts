import type { EChartsCoreOption } from 'echarts/core';
import { smallMultiplesPanelBox, type PanelBox } from '../../../common/small-multiples-layout';
import type { HeadLabel, HeadStats } from '../../../engine/attention-stats';
import { colourScale, escapeHtml, fmt, heatmapOption, HIGHLIGHT, SEQUENTIAL } from './options';

/** The attention views' charts: every head as small multiples, the weights as lines between tokens, and the heads' statistics. */

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
