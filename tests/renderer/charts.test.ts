import { describe, expect, it } from 'vitest';
import { barsOption, formatPercent, heatmapOption, uniqueLabels } from '../../src/renderer/src/charts/options';
import { toCsv } from '../../src/renderer/src/components/csv';

describe('chart option builders', () => {
  it('builds a causal attention heatmap without future cells', () => {
    const w = [
      [1, 0, 0],
      [0.25, 0.75, 0],
      [0.2, 0.3, 0.5],
    ];
    const option = heatmapOption({
      title: 'Attention',
      rows: ['a', 'b', 'c'],
      cols: ['a', 'b', 'c'],
      value: (q, k) => (k > q ? null : (w[q]?.[k] ?? 0)),
      xName: 'key',
      yName: 'query',
      min: 0,
      max: 1,
    }) as { series: { data: [number, number, number][] }[]; visualMap: { min: number; max: number } };
    const data = option.series[0]?.data ?? [];
    expect(data).toHaveLength(6);
    expect(data).toContainEqual([1, 1, 0.75]);
    expect(data.some(([k, q]) => k > q)).toBe(false);
    expect(option.visualMap).toMatchObject({ min: 0, max: 1 });
  });

  it('highlights one bar', () => {
    const option = barsOption({ title: 't', labels: ['x', 'y'], values: [0.7, 0.3], xName: 'p', highlight: 0, asPercent: true }) as {
      series: { data: { value: number; itemStyle: { color: string } }[] }[];
    };
    const bars = option.series[0]?.data ?? [];
    expect(bars.map((b) => b.value)).toEqual([0.7, 0.3]);
    expect(bars[0]?.itemStyle.color).not.toBe(bars[1]?.itemStyle.color);
  });

  it('formats probabilities with the digits that matter', () => {
    expect(formatPercent(0.9996)).toBe('99.96%');
    expect(formatPercent(0.999995)).toBe('99.999%');
    expect(formatPercent(0.9999999)).not.toMatch(/^100/);
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(0.5)).toBe('50.0%');
    expect(formatPercent(0.00004)).toBe('0.004%');
  });

  it('labels counts as whole numbers', () => {
    const option = barsOption({ title: 't', labels: ['a'], values: [3], xName: 'n', isCount: true }) as {
      series: { label: { formatter: (p: { value: number }) => string } }[];
    };
    expect(option.series[0]?.label.formatter({ value: 3 })).toBe('3');
  });

  it('numbers repeated labels', () => {
    expect(uniqueLabels(['The', '␣the', '␣the'])).toEqual(['The', '␣the', '␣the·2']);
  });

  it('quotes CSV fields', () => {
    expect(toCsv(['a', 'b'], [[' east', 'x,"y"']])).toBe('a,b\n east,"x,""y"""\n');
  });
});
