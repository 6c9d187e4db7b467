import { describe, expect, it } from 'vitest';
import { surprisalOption } from '../../src/renderer/src/charts/surprisal-options';

interface Bar {
  value: number | string;
  itemStyle: { color: string };
}

describe('surprisalOption: the prompt surprisal chart', () => {
  const bars = [
    { label: 'The', bits: null, prob: null, rank: null },
    { label: '␣sun', bits: 2.33, prob: 0.199, rank: 2 },
    { label: '␣in', bits: 0.0003, prob: 0.9998, rank: 1 },
    { label: '␣in', bits: 12.5, prob: 0.00017, rank: null },
  ];
  const option = surprisalOption({ title: 'T', bars, rankScope: "the server's top 5" }) as {
    xAxis: { data: string[] };
    series: { data: Bar[] }[];
    tooltip: { formatter: (p: { dataIndex: number }) => string };
  };

  it('one bar per prompt token, none for the first; labels kept apart by position', () => {
    expect(option.xAxis.data).toEqual(['0 The', '1 ␣sun', '2 ␣in', '3 ␣in']);
    expect(option.series[0]?.data.map((d) => d.value)).toEqual(['-', 2.33, 0.0003, 12.5]);
  });

  it('a token the model ranked first in its colour, the others (and an unranked one) in orange', () => {
    expect(option.series[0]?.data.map((d) => d.itemStyle.color)).toEqual(['#e66101', '#e66101', '#2a788e', '#e66101']);
  });

  it('the tooltip says bits, probability and rank, or where the rank was not given', () => {
    expect(option.tooltip.formatter({ dataIndex: 0 })).toBe('The: the first token (nothing predicts it)');
    expect(option.tooltip.formatter({ dataIndex: 1 })).toBe('␣sun: 2.33 bits · p = 0.199 · rank 2');
    expect(option.tooltip.formatter({ dataIndex: 3 })).toBe("␣in: 12.50 bits · p = 0.000170 · not ranked within the server&#39;s top 5");
  });
});
