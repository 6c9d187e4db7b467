import type { EChartsCoreOption } from 'echarts/core';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `value` as a plain record, or null. */
function record(value: unknown): Record<string, unknown> | null {
  return isRecord(value) ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** A number from a data item: `3`, `{ value: 3 }`, or the last entry of `[x, y, v]`. */
function numberOf(item: unknown): number | null {
  if (typeof item === 'number') return Number.isFinite(item) ? item : null;
  if (Array.isArray(item)) return numberOf(item.at(-1));
  const r = record(item);
  return r ? numberOf(r['value']) : null;
}

const short = (v: number): string => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : String(Number(v.toPrecision(3))));

/**
 * A chart's text alternative, read from its option: its title and the key figure of its data, in
 * words ("Characters per token: 13 bars; the largest, ␣rises, is 6"). Screen readers read it where
 * sighted readers see the picture; it is computed from the same option the chart draws, so it
 * never disagrees with it.
 */
export function chartSummary(option: EChartsCoreOption): string {
  const titles = list(option['title'])
    .map((t) => record(t)?.['text'])
    .filter((t): t is string => typeof t === 'string' && t !== '');
  const title = titles[0] ?? 'Chart';
  const series = list(option['series']).map(record).filter((s): s is Record<string, unknown> => s !== null);
  const first = series[0];
  if (!first) return title;
  const data = list(first['data']);
  const type = first['type'];
  if (type === 'bar') {
    const yAxis = record(list(option['yAxis'])[0]);
    const xAxis = record(list(option['xAxis'])[0]);
    const categories = list(yAxis?.['type'] === 'category' ? yAxis['data'] : xAxis?.['data']);
    const values = data.map(numberOf);
    let best = -1;
    values.forEach((v, i) => {
      if (v !== null && (best < 0 || v > (values[best] ?? -Infinity))) best = i;
    });
    const label = categories[best];
    const top = values[best];
    return best < 0 || top === null || top === undefined ? `${title}: no data` : `${title}: ${values.length} bars; the largest, ${String(label ?? best + 1)}, is ${short(top)}`;
  }
  if (type === 'line') {
    const names = series.map((s) => s['name']).filter((n): n is string => typeof n === 'string');
    return `${title}: ${series.length === 1 ? 'one line' : `${series.length} lines (${names.join(', ')})`} over ${data.length} points`;
  }
  if (type === 'heatmap') {
    // A loop, not Math.min(...values): a grid of every layer and head holds 100,000 cells and more.
    let count = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const s of series) {
      for (const item of list(s['data'])) {
        const v = numberOf(item);
        if (v === null) continue;
        count++;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    if (count === 0) return `${title}: no data`;
    return `${title}: ${series.length > 1 ? `${series.length} panels, ` : ''}${count} cells, values from ${short(min)} to ${short(max)}`;
  }
  if (type === 'scatter') return `${title}: ${series.reduce((n, s) => n + list(s['data']).length, 0)} points`;
  if (type === 'tree') return `${title}: a tree of branches`;
  return title;
}
