import type { EChartsCoreOption } from 'echarts/core';
import { escapeHtml, heatmapOption, SEQUENTIAL, SERIES } from './options';

/** The chosen token's own bar, apart from its neighbours' (Okabe–Ito vermillion and blue). */
const SELF = SERIES[5] ?? '#d55e00';
const OTHER = SERIES[0] ?? '#0072b2';

/** "PC1 (63.2% of variance)". */
export function componentName(index: number, ratio: number): string {
  return `PC${index + 1} (${(ratio * 100).toFixed(1)}% of variance)`;
}

export interface PcaScatterInput {
  title: string;
  /** One label per point (the token). */
  labels: string[];
  /** Coordinates on PC1 and PC2, one pair per point. */
  points: [number, number][];
  /** Variance ratios of PC1 and PC2. */
  ratios: [number, number];
  caption?: string;
}

/**
 * The prompt's tokens as points on the first two principal components, each labelled with its
 * token, coloured by position (viridis, dark outline so the light end stays visible), exact
 * coordinates on hover.
 */
export function pcaScatterOption(input: PcaScatterInput): EChartsCoreOption {
  const n = input.points.length;
  const data = input.points.map(([x, y], i) => [x, y, i]);
  return {
    title: { text: input.title, subtext: input.caption ?? '', left: 'center', textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 11 } },
    tooltip: {
      trigger: 'item',
      formatter: (p: { value: [number, number, number] }) =>
        `token: <b>${escapeHtml(input.labels[p.value[2]] ?? '')}</b> (position ${p.value[2]})<br/>PC1: <b>${p.value[0].toFixed(4)}</b><br/>PC2: <b>${p.value[1].toFixed(4)}</b>`,
    },
    grid: { left: 70, right: 90, top: input.caption ? 58 : 40, bottom: 60 },
    // Room around the points (so their labels fit), ticks at round numbers, axes on the plot's edges.
    xAxis: { type: 'value', name: componentName(0, input.ratios[0]), nameLocation: 'middle', nameGap: 30, boundaryGap: ['8%', '14%'], axisLine: { onZero: false }, splitLine: { lineStyle: { color: '#eeeeee' } } },
    yAxis: { type: 'value', name: componentName(1, input.ratios[1]), nameLocation: 'middle', nameGap: 48, boundaryGap: ['8%', '8%'], axisLine: { onZero: false }, splitLine: { lineStyle: { color: '#eeeeee' } } },
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: 0,
      max: Math.max(1, n - 1),
      text: ['last', 'first'],
      calculable: false,
      orient: 'vertical',
      right: 5,
      top: 'middle',
      itemHeight: 100,
      precision: 0,
      inRange: { color: SEQUENTIAL },
    },
    series: [
      {
        type: 'scatter',
        data,
        symbolSize: 11,
        itemStyle: { borderColor: '#333333', borderWidth: 0.8 },
        label: {
          show: true,
          position: 'right',
          fontSize: 11,
          color: '#222222',
          formatter: (p: { value: [number, number, number] }) => input.labels[p.value[2]] ?? '',
        },
        labelLayout: { hideOverlap: n > 40 },
        emphasis: { focus: 'self', label: { fontWeight: 'bold' } },
      },
    ],
  };
}

export interface NeighboursInput {
  title: string;
  /** Token labels, most similar first (the chosen token itself first). */
  labels: string[];
  similarities: number[];
  /** Index of the chosen token in the list (0 normally). */
  self?: number;
  caption?: string;
}

/** Horizontal bars of cosine similarity, most similar at the top, exact values on the bars and on hover. */
export function neighboursOption(input: NeighboursInput): EChartsCoreOption {
  const lowest = Math.min(0, ...input.similarities);
  return {
    title: { text: input.title, subtext: input.caption ?? '', left: 'center', textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 11 } },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (ps: { dataIndex: number }[]) => {
        const i = ps[0]?.dataIndex ?? 0;
        return `${escapeHtml(input.labels[i] ?? '')}<br/>cosine similarity: <b>${(input.similarities[i] ?? 0).toFixed(6)}</b>`;
      },
    },
    grid: { left: 110, right: 60, top: input.caption ? 58 : 40, bottom: 40 },
    xAxis: { type: 'value', name: 'cosine similarity', nameLocation: 'middle', nameGap: 25, min: lowest < 0 ? -1 : 0, max: 1 },
    yAxis: { type: 'category', data: input.labels, inverse: true, axisLabel: { interval: 0, fontSize: 11 } },
    series: [
      {
        type: 'bar',
        data: input.similarities.map((v, i) => ({ value: v, itemStyle: { color: i === (input.self ?? 0) ? SELF : OTHER } })),
        label: { show: true, position: 'right', formatter: (p: { value: number }) => p.value.toFixed(3), fontSize: 11 },
        barMaxWidth: 18,
      },
    ],
  };
}

/** Every label up to 32, beyond that one in every ⌈n/16⌉, so at most about 16 are written. */
export function labelInterval(n: number): number {
  return n > 32 ? Math.ceil(n / 16) - 1 : 0;
}

/** Numbered category axes (positions down, `xName` across) whose labels thin out on long axes. */
function numberedAxes(option: EChartsCoreOption, rows: number, cols: { start: number; count: number; name: string }): EChartsCoreOption {
  const axis = (n: number, start: number): Record<string, unknown> => ({
    type: 'category',
    data: Array.from({ length: n }, (_, i) => String(start + i)),
    nameLocation: 'middle',
    axisLabel: { interval: labelInterval(n), fontSize: 10 },
    axisTick: { interval: labelInterval(n) },
    splitArea: { show: true },
  });
  return {
    ...option,
    xAxis: { ...axis(cols.count, cols.start), name: cols.name, nameGap: 28 },
    yAxis: { ...axis(rows, 0), name: 'position', nameGap: 36, inverse: true },
    grid: { left: 56, right: 70, top: 40, bottom: 50 },
  };
}

export interface PositionVectorsInput {
  /** Row-major [count][width]. */
  vectors: ArrayLike<number>;
  count: number;
  width: number;
  /** First dimension and how many to show (a window for wide models). */
  start: number;
  shown: number;
}

/** Position × dimension heatmap of a learned positional table, on a symmetric diverging scale. */
export function positionVectorsOption(input: PositionVectorsInput): EChartsCoreOption {
  const { vectors, count, width } = input;
  const start = Math.max(0, Math.min(input.start, width - 1));
  const shown = Math.max(1, Math.min(input.shown, width - start));
  let bound = 0;
  for (let p = 0; p < count; p++) for (let d = start; d < start + shown; d++) bound = Math.max(bound, Math.abs(vectors[p * width + d] ?? 0));
  const option = heatmapOption({
    title: `Learned position vectors: positions 0–${count - 1}, dimensions ${start}–${start + shown - 1} of ${width}`,
    rows: Array.from({ length: count }, (_, p) => String(p)),
    cols: Array.from({ length: shown }, (_, i) => String(start + i)),
    value: (r, c) => vectors[r * width + start + c] ?? 0,
    xName: 'dimension',
    yName: 'position',
    min: -(bound || 1),
    max: bound || 1,
    diverging: true,
  });
  return numberedAxes(option, count, { start, count: shown, name: 'dimension' });
}

/** Cosine similarity between position vectors (positions × positions), −1 to 1 on a diverging scale. */
export function positionSimilarityOption(similarity: ArrayLike<number>, count: number): EChartsCoreOption {
  const labels = Array.from({ length: count }, (_, p) => String(p));
  const option = heatmapOption({
    title: `Cosine similarity between position vectors 0–${count - 1}`,
    rows: labels,
    cols: labels,
    value: (r, c) => similarity[r * count + c] ?? 0,
    xName: 'position',
    yName: 'position',
    min: -1,
    max: 1,
    diverging: true,
    showValues: count <= 12,
  });
  return numberedAxes(option, count, { start: 0, count, name: 'position' });
}

export interface RotaryInput {
  /** θ_i per dimension pair, radians per position. */
  angles: number[];
  base: number;
  headDim: number;
  /** Where the base comes from, for the title ("rope_theta" or "default"). */
  baseSource: string;
}

/**
 * The rotation angle per position of each dimension pair of a head, θ_i = base^(−2i/d), on a log
 * scale; the tooltip adds the wavelength 2π/θ_i in positions.
 */
export function rotaryAnglesOption(input: RotaryInput): EChartsCoreOption {
  const source = input.baseSource === 'rope_theta' ? 'rope_theta' : 'the usual default';
  return {
    title: {
      text: `Rotary angle per position: θᵢ = base^(−2i/d), base ${input.base} (${source}), d = ${input.headDim}`,
      left: 'center',
      textStyle: { fontSize: 13 },
    },
    tooltip: {
      trigger: 'axis',
      formatter: (ps: { dataIndex: number }[]) => {
        const i = ps[0]?.dataIndex ?? 0;
        const theta = input.angles[i] ?? 0;
        return (
          `pair ${i} (dimensions ${2 * i} and ${2 * i + 1})<br/>θ: <b>${theta.toPrecision(6)}</b> rad per position` +
          `<br/>wavelength 2π/θ: <b>${((2 * Math.PI) / theta).toPrecision(5)}</b> positions`
        );
      },
    },
    grid: { left: 80, right: 30, top: 40, bottom: 60 },
    xAxis: { type: 'category', data: input.angles.map((_, i) => String(i)), name: 'dimension pair i', nameLocation: 'middle', nameGap: 35 },
    yAxis: { type: 'log', name: 'θᵢ (radians per position, log scale)', nameLocation: 'middle', nameGap: 60, axisLabel: { formatter: (v: number) => v.toExponential(0) } },
    series: [{ type: 'line', data: input.angles, symbolSize: 6, lineStyle: { color: OTHER }, itemStyle: { color: OTHER } }],
  };
}
