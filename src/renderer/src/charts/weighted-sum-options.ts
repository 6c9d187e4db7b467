import type { EChartsCoreOption } from 'echarts/core';
import { SERIES } from './options';

export interface WeightedSumInput {
  title: string;
  /** The earlier tokens, one stack layer each. */
  tokens: string[];
  /** parts[k][d]: token k's weight × its value vector, dimension d. */
  parts: number[][];
  /** The head's output, dimension by dimension: the sum of the parts. */
  total: number[];
}

/**
 * The weighted sum made concrete: for each dimension of a head's output, one stacked bar of each
 * earlier token's part (weight × value; negative parts stack below zero), and the output itself as
 * a line through the bars' sums. Okabe–Ito colours, cycled.
 */
export function weightedSumOption(input: WeightedSumInput): EChartsCoreOption {
  const dims = input.total.map((_, d) => String(d));
  return {
    title: { text: input.title, left: 'center', textStyle: { fontSize: 13 } },
    legend: { top: 24, type: 'scroll', data: [...input.tokens, 'output (sum)'] },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v)) },
    grid: { left: 60, right: 20, top: 64, bottom: 50 },
    xAxis: { type: 'category', data: dims, name: 'dimension of the head', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'value', name: 'weight × value', nameLocation: 'middle', nameGap: 45 },
    series: [
      ...input.tokens.map((name, k) => ({
        name,
        type: 'bar',
        stack: 'parts',
        data: input.parts[k] ?? [],
        itemStyle: { color: SERIES[k % SERIES.length] },
        emphasis: { focus: 'series' },
      })),
      { name: 'output (sum)', type: 'line', data: input.total, symbol: 'circle', symbolSize: 5, lineStyle: { color: '#000000', width: 1.5 }, itemStyle: { color: '#000000' }, z: 5 },
    ],
  };
}
