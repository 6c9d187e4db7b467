import type { EChartsCoreOption } from 'echarts/core';
import { escapeHtml, uniqueLabels } from './options';

export interface SurprisalBar {
  /** The token as shown (visible spaces). */
  label: string;
  /** −log2 p; null for the first token, which nothing predicts. */
  bits: number | null;
  prob: number | null;
  /** 1-based; null when unknown (past a server's top K). */
  rank: number | null;
}

const BAR = '#2a788e';
/** A token the model did not rank first: it surprised the model more than its best guess would have. */
const SURPRISE = '#e66101';

/**
 * Prompt surprisal: one bar per prompt token, its height the bits −log2 p(token | the tokens before
 * it). Tokens the model ranked first are drawn in the app's colour, the others in orange.
 */
export function surprisalOption(input: { title: string; caption?: string; bars: readonly SurprisalBar[]; rankScope?: string }): EChartsCoreOption {
  const labels = uniqueLabels(input.bars.map((b, i) => `${i} ${b.label}`));
  return {
    title: { text: input.title, subtext: input.caption ?? '', left: 'center', textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 11 } },
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataIndex: number }) => {
        const b = input.bars[p.dataIndex];
        if (!b) return '';
        if (b.bits === null) return `${escapeHtml(b.label)}: the first token (nothing predicts it)`;
        const rank = b.rank === null ? `not ranked within ${escapeHtml(input.rankScope ?? 'the top K')}` : `rank ${b.rank}`;
        return `${escapeHtml(b.label)}: ${b.bits.toFixed(2)} bits · p = ${(b.prob ?? 0).toPrecision(3)} · ${rank}`;
      },
    },
    grid: { left: 60, right: 20, top: input.caption ? 58 : 40, bottom: 80 },
    xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, rotate: labels.length > 8 ? 45 : 0, fontSize: 11 }, name: 'prompt token', nameLocation: 'middle', nameGap: 60 },
    yAxis: { type: 'value', name: 'surprisal (bits)', nameLocation: 'middle', nameGap: 40, min: 0 },
    series: [
      {
        type: 'bar',
        data: input.bars.map((b) => ({ value: b.bits ?? '-', itemStyle: { color: b.rank === 1 ? BAR : SURPRISE } })),
        label: { show: true, position: 'top', fontSize: 10, formatter: (p: { value: number | string }) => (typeof p.value === 'number' ? p.value.toFixed(1) : '') },
        barMaxWidth: 28,
      },
    ],
  };
}
