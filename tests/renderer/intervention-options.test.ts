import { describe, expect, it } from 'vitest';
import { beforeAfterOption, beforeAfterRows } from '../../src/renderer/src/charts/intervention-options';

describe('before/after bars of an intervention', () => {
  it('shows the union of both top-k lists, ranked by the probability before', () => {
    const before = [0.5, 0.3, 0.1, 0.05, 0.05];
    const after = [0.2, 0.3, 0.05, 0.4, 0.05];
    expect(beforeAfterRows(before, after, 2)).toEqual([
      { id: 0, before: 0.5, after: 0.2 },
      { id: 1, before: 0.3, after: 0.3 },
      { id: 3, before: 0.05, after: 0.4 },
    ]);
  });

  it('draws two series in colour-blind safe colours with exact values on hover', () => {
    const option = beforeAfterOption({ title: 'head 1:0 off', labels: ['␣east', '␣west'], before: [0.9, 0.05], after: [0.7, 0.2] }) as {
      series: { name: string; data: number[]; itemStyle: { color: string } }[];
      yAxis: { data: string[] };
      tooltip: { valueFormatter: (v: number) => string };
    };
    expect(option.series.map((s) => s.name)).toEqual(['before', 'after']);
    expect(option.series.map((s) => s.data)).toEqual([
      [0.9, 0.05],
      [0.7, 0.2],
    ]);
    expect(option.series.map((s) => s.itemStyle.color)).toEqual(['#0072b2', '#e69f00']);
    expect(option.yAxis.data).toEqual(['␣east', '␣west']);
    expect(option.tooltip.valueFormatter(0.9996)).toBe('99.96%');
  });
});

describe('the weighted sum made concrete', () => {
  it('stacks each token’s weight × value per dimension, with the output as a line', async () => {
    const { weightedSumOption } = await import('../../src/renderer/src/charts/weighted-sum-options');
    const option = weightedSumOption({ title: 't', tokens: ['The', '␣sun'], parts: [[0.1, -0.2], [0.3, 0.4]], total: [0.4, 0.2] }) as {
      series: { name: string; type: string; stack?: string; data: number[] }[];
      xAxis: { data: string[] };
    };
    expect(option.xAxis.data).toEqual(['0', '1']);
    expect(option.series.map((s) => [s.name, s.type, s.stack])).toEqual([
      ['The', 'bar', 'parts'],
      ['␣sun', 'bar', 'parts'],
      ['output (sum)', 'line', undefined],
    ]);
    expect(option.series[2]?.data).toEqual([0.4, 0.2]);
  });
});
