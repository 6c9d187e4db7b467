import { describe, expect, it } from 'vitest';
import {
  componentName,
  labelInterval,
  neighboursOption,
  pcaScatterOption,
  positionSimilarityOption,
  positionVectorsOption,
  rotaryAnglesOption,
} from '../../src/renderer/src/charts/embedding-options';
import { DIVERGING, SEQUENTIAL } from '../../src/renderer/src/charts/options';

type Formatter<T> = (p: T) => string;

describe('PCA scatter of the prompt tokens', () => {
  const option = pcaScatterOption({
    title: 'tokens',
    labels: ['The', '␣sun', '<b>'],
    points: [
      [1.5, -0.25],
      [-2, 0.5],
      [0.5, 0.125],
    ],
    ratios: [0.6321, 0.2],
  }) as {
    xAxis: { name: string };
    yAxis: { name: string };
    visualMap: { inRange: { color: string[] }; dimension: number; max: number };
    series: { type: string; data: number[][]; label: { formatter: Formatter<{ value: number[] }> } }[];
    tooltip: { formatter: Formatter<{ value: number[] }> };
  };

  it('names the axes after the components and their share of the variance', () => {
    expect(componentName(0, 0.6321)).toBe('PC1 (63.2% of variance)');
    expect(option.xAxis.name).toBe('PC1 (63.2% of variance)');
    expect(option.yAxis.name).toBe('PC2 (20.0% of variance)');
  });

  it('draws one labelled point per token, coloured by position with viridis', () => {
    const series = option.series[0];
    expect(series?.type).toBe('scatter');
    expect(series?.data).toEqual([
      [1.5, -0.25, 0],
      [-2, 0.5, 1],
      [0.5, 0.125, 2],
    ]);
    expect(series?.label.formatter({ value: [-2, 0.5, 1] })).toBe('␣sun');
    expect(option.visualMap.inRange.color).toEqual(SEQUENTIAL);
    expect(option.visualMap).toMatchObject({ dimension: 2, max: 2 });
  });

  it('shows the exact coordinates on hover, with the token escaped', () => {
    const text = option.tooltip.formatter({ value: [0.5, 0.125, 2] });
    expect(text).toContain('&#60;b&#62;');
    expect(text).toContain('position 2');
    expect(text).toContain('PC1: <b>0.5000</b>');
    expect(text).toContain('PC2: <b>0.1250</b>');
  });
});

describe('nearest neighbours bars', () => {
  it('puts the token first in its own colour, similarities exact on hover', () => {
    const option = neighboursOption({ title: 'near ␣sun', labels: ['␣sun', '␣moon', '␣cat'], similarities: [1, 0.43219, -0.1] }) as {
      yAxis: { data: string[] };
      xAxis: { min: number; max: number };
      series: { data: { value: number; itemStyle: { color: string } }[]; label: { formatter: Formatter<{ value: number }> } }[];
      tooltip: { formatter: Formatter<{ dataIndex: number }[]> };
    };
    expect(option.yAxis.data).toEqual(['␣sun', '␣moon', '␣cat']);
    const bars = option.series[0]?.data ?? [];
    expect(bars.map((b) => b.value)).toEqual([1, 0.43219, -0.1]);
    expect(bars[0]?.itemStyle.color).toBe('#d55e00');
    expect(bars[1]?.itemStyle.color).toBe('#0072b2');
    expect(option.xAxis).toMatchObject({ min: -1, max: 1 });
    expect(option.series[0]?.label.formatter({ value: 1 })).toBe('1.000');
    expect(option.tooltip.formatter([{ dataIndex: 1 }])).toContain('cosine similarity: <b>0.432190</b>');
  });
});

describe('learned position views', () => {
  // Three positions, four dimensions.
  const vectors = [1, 0, 0, 0, 0, 2, 0, 0, -3, 0, 0, 1];

  it('position × dimension heatmap over a dimension window, symmetric diverging scale', () => {
    const option = positionVectorsOption({ vectors, count: 3, width: 4, start: 1, shown: 2 }) as {
      title: { text: string };
      series: { data: number[][] }[];
      xAxis: { data: string[] };
      yAxis: { data: string[]; name: string };
      visualMap: { min: number; max: number; inRange: { color: string[] } };
    };
    expect(option.title.text).toBe('Learned position vectors: positions 0–2, dimensions 1–2 of 4');
    expect(option.xAxis.data).toEqual(['1', '2']);
    expect(option.yAxis).toMatchObject({ data: ['0', '1', '2'], name: 'position' });
    // [column, row, value]
    expect(option.series[0]?.data).toContainEqual([0, 1, 2]);
    expect(option.series[0]?.data).toHaveLength(6);
    expect(option.visualMap).toMatchObject({ min: -2, max: 2 });
    expect(option.visualMap.inRange.color).toEqual(DIVERGING);
  });

  it('writes every position label up to 32 positions, about 16 beyond', () => {
    expect([8, 32, 33, 64, 128, 512].map(labelInterval)).toEqual([0, 0, 2, 3, 7, 31]);
    const option = positionSimilarityOption(new Float32Array(64 * 64), 64) as { xAxis: { axisLabel: { interval: number } }; yAxis: { axisLabel: { interval: number }; inverse: boolean } };
    expect(option.xAxis.axisLabel.interval).toBe(3);
    expect(option.yAxis).toMatchObject({ axisLabel: { interval: 3 }, inverse: true });
  });

  it('position similarity heatmap from −1 to 1 with values shown for a few positions', () => {
    const sim = [1, 0.5, -0.25, 0.5, 1, 0, -0.25, 0, 1];
    const option = positionSimilarityOption(sim, 3) as {
      series: { data: number[][]; label: { show: boolean } }[];
      visualMap: { min: number; max: number };
      tooltip: { formatter: Formatter<{ value: number[] }> };
    };
    expect(option.series[0]?.data).toContainEqual([2, 0, -0.25]);
    expect(option.series[0]?.data.filter((d) => d[0] === d[1]).map((d) => d[2])).toEqual([1, 1, 1]);
    expect(option.visualMap).toMatchObject({ min: -1, max: 1 });
    expect(option.series[0]?.label.show).toBe(true);
    expect(option.tooltip.formatter({ value: [2, 0, -0.25] })).toContain('-0.2500');
  });
});

describe('rotary angles', () => {
  it('plots θ_i on a log axis, names the base and its source, gives the wavelength on hover', () => {
    const option = rotaryAnglesOption({ angles: [1, 0.1, 0.01, 0.001], base: 10000, headDim: 8, baseSource: 'rope_theta' }) as {
      title: { text: string };
      xAxis: { data: string[] };
      yAxis: { type: string };
      series: { data: number[] }[];
      tooltip: { formatter: Formatter<{ dataIndex: number }[]> };
    };
    expect(option.title.text).toContain('base 10000 (rope_theta), d = 8');
    expect(option.xAxis.data).toEqual(['0', '1', '2', '3']);
    expect(option.yAxis.type).toBe('log');
    expect(option.series[0]?.data).toEqual([1, 0.1, 0.01, 0.001]);
    const tip = option.tooltip.formatter([{ dataIndex: 1 }]);
    expect(tip).toContain('dimensions 2 and 3');
    expect(tip).toContain('θ: <b>0.100000</b>');
    expect(tip).toContain('<b>62.832</b> positions');
  });
});
