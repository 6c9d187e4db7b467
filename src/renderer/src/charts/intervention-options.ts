import type { EChartsCoreOption } from 'echarts/core';
import { formatPercent, SERIES } from './options';

export interface BeforeAfterInput {
  title: string;
  /** Token labels, top to bottom. */
  labels: string[];
  before: number[];
  after: number[];
  /** Series names; default "before" and "after". */
  names?: [string, string];
}

/**
 * Two bars a token: the next-token probability before and after an intervention (Okabe–Ito blue
 * and orange, told apart with the common forms of colour blindness), exact values on hover.
 */
export function beforeAfterOption(input: BeforeAfterInput): EChartsCoreOption {
  const names = input.names ?? ['before', 'after'];
  const bar = (name: string, values: number[], color: string): object => ({
    name,
    type: 'bar',
    data: values,
    itemStyle: { color },
    label: { show: true, position: 'right', formatter: (p: { value: number }) => formatPercent(p.value), fontSize: 10 },
    barMaxWidth: 14,
  });
  return {
    title: { text: input.title, left: 'center', textStyle: { fontSize: 13 } },
    legend: { top: 24, data: [...names] },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => formatPercent(v) },
    grid: { left: 110, right: 70, top: 56, bottom: 40 },
    xAxis: { type: 'value', name: 'probability', nameLocation: 'middle', nameGap: 25, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
    yAxis: { type: 'category', data: input.labels, inverse: true, axisLabel: { interval: 0, fontSize: 11 } },
    series: [bar(names[0], input.before, SERIES[0] ?? '#0072b2'), bar(names[1], input.after, SERIES[1] ?? '#e69f00')],
  };
}

/** The tokens to show: the union of both top-k lists, ranked by the probability before. */
export function beforeAfterRows(before: ArrayLike<number>, after: ArrayLike<number>, k: number): { id: number; before: number; after: number }[] {
  const topIds = (p: ArrayLike<number>): number[] =>
    Array.from({ length: p.length }, (_, i) => i)
      .sort((a, b) => (p[b] ?? 0) - (p[a] ?? 0))
      .slice(0, k);
  const ids = [...new Set([...topIds(before), ...topIds(after)])];
  return ids.map((id) => ({ id, before: before[id] ?? 0, after: after[id] ?? 0 })).sort((a, b) => b.before - a.before || b.after - a.after);
}
