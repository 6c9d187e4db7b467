import { describe, expect, it } from 'vitest';
import { barsOption, COLOUR_SCALE_ROOM, formatPercent, formatScaleValue, heatmapOption, uniqueLabels } from '../../src/renderer/src/charts/options';
import { attentionLinesOption, headStatsOption, LINES_ROW_Y, LINES_SPAN_X, PALETTES, smallMultiplesOption } from '../../src/renderer/src/charts/attention-options';
import { smallMultiplesHeight, smallMultiplesPanelBox } from '../../src/common/small-multiples-layout';
import { withCaption } from '../../src/renderer/src/components/export';
import { allHeadStats } from '../../src/engine/attention-stats';
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

  const W = [
    [1, 0, 0],
    [0.25, 0.75, 0],
    [0.2, 0.3, 0.5],
  ];
  const causal = (scale: number) => (q: number, k: number): number | null => (k > q ? null : (W[q]?.[k] ?? 0) * scale);

  it('draws small multiples: one grid, axis pair and heatmap per panel, one colour scale', () => {
    const input = {
      title: 'All heads',
      panels: [0, 1, 2, 3, 4].map((h) => ({ title: `head ${h}`, value: causal(1) })),
      columns: 4,
      rows: ['a', 'b', 'c'],
      cols: ['a', 'b', 'c'],
      xName: 'key',
      yName: 'query',
      min: 0,
      max: 1,
      panelHeight: 100,
      showAxisLabels: true,
      selected: 2,
      palette: PALETTES.cividis,
    };
    const option = smallMultiplesOption(input) as {
      title: { text: string }[];
      grid: { borderWidth: number; top: number }[];
      xAxis: { gridIndex: number; axisLabel: { show: boolean } }[];
      yAxis: { gridIndex: number; axisLabel: { show: boolean } }[];
      series: { xAxisIndex: number; data: [number, number, number][] }[];
      visualMap: { seriesIndex: number[]; inRange: { color: string[] } };
      tooltip: { formatter: (p: { seriesIndex: number; value: [number, number, number] }) => string };
    };
    expect(option.title.map((t) => t.text)).toEqual(['All heads', 'head 0', 'head 1', 'head 2', 'head 3', 'head 4']);
    expect(option.grid).toHaveLength(5);
    expect(option.series.map((s) => s.xAxisIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(option.series[3]?.data).toHaveLength(6);
    expect(option.series[3]?.data).toContainEqual([1, 2, 0.3]);
    expect(option.grid.map((g) => g.borderWidth)).toEqual([0, 0, 3, 0, 0]);
    // Token labels on the left column (panels 0 and 4) and on the bottom of each column (panels 1–4).
    expect(option.yAxis.map((a) => a.axisLabel.show)).toEqual([true, false, false, false, true]);
    expect(option.xAxis.map((a) => a.axisLabel.show)).toEqual([false, true, true, true, true]);
    expect(option.visualMap.seriesIndex).toEqual([0, 1, 2, 3, 4]);
    expect(option.visualMap.inRange.color).toEqual([...PALETTES.cividis]);
    expect(option.tooltip.formatter({ seriesIndex: 1, value: [0, 2, 0.2] })).toBe('head 1<br/>query: c<br/>key: a<br/>weight: <b>0.2000</b>');
    // The second row starts below the first, and the chart is tall enough for both.
    const layout = { ...input, count: input.panels.length };
    const box = smallMultiplesPanelBox(layout, 4);
    expect(box.top).toBeGreaterThan(smallMultiplesPanelBox(layout, 0).top + 100);
    expect(smallMultiplesHeight(layout)).toBeGreaterThanOrEqual(box.top + box.height + 40);
    expect(box.leftPct).toBe(smallMultiplesPanelBox(layout, 0).leftPct);
  });

  it('keeps the panel titles when an export adds its caption', () => {
    const option = smallMultiplesOption({
      title: 'T', panels: [{ title: 'p', value: causal(1) }], columns: 1, rows: ['a', 'b', 'c'], cols: ['a', 'b', 'c'],
      xName: 'key', yName: 'query', min: 0, max: 1, panelHeight: 50, showAxisLabels: false,
    });
    const titles = withCaption(option, 'm · p')['title'] as { text: string; subtext?: string }[];
    expect(titles.map((t) => t.text)).toEqual(['T', 'p']);
    expect(titles[0]?.subtext).toBe('m · p');
  });

  it('draws attention as lines from queries to keys, weight as width and opacity', () => {
    const option = attentionLinesOption({ title: 'Lines', labels: ['a', 'b', 'c'], weights: W, minWeight: 0.01 }) as {
      series: { data: { name: string; x: number; y: number }[]; links: { source: string; target: string; value: number; lineStyle: { width: number; opacity: number } }[] }[];
      tooltip: { formatter: (p: { dataType: string; data: { source?: string; target?: string; value?: number | string } }) => string };
    };
    const series = option.series[0];
    expect(series?.data).toHaveLength(6);
    expect(series?.data.find((d) => d.name === 'k2')).toMatchObject({ x: LINES_SPAN_X, y: 2 * LINES_ROW_Y });
    // Zero weights (the masked future) are not drawn: 6 lines.
    expect(series?.links.map((l) => [l.source, l.target, l.value])).toEqual([
      ['q0', 'k0', 1],
      ['q1', 'k0', 0.25],
      ['q1', 'k1', 0.75],
      ['q2', 'k0', 0.2],
      ['q2', 'k1', 0.3],
      ['q2', 'k2', 0.5],
    ]);
    const [heavy, light] = [series?.links[0], series?.links[1]];
    expect(heavy?.lineStyle.width).toBeGreaterThan(light?.lineStyle.width ?? Infinity);
    expect(heavy?.lineStyle.opacity).toBeGreaterThan(light?.lineStyle.opacity ?? Infinity);
    expect(option.tooltip.formatter({ dataType: 'edge', data: { source: 'q2', target: 'k1', value: 0.3 } })).toBe('c → b<br/>weight: <b>0.3000</b>');
  });

  it('shows head statistics as layers × heads, coloured by entropy, labelled by rule', () => {
    const layer = new Float32Array([1, 0, 0, 1, 0, 0, 0, 1, 0]);
    const stats = allHeadStats([layer, layer], 1, 3);
    const option = headStatsOption({ title: 'Heads', stats, layers: 2, heads: 1, maxBits: Math.log2(3) }) as {
      series: { data: [number, number, number][]; label: { formatter: (p: { value: [number, number, number] }) => string } }[];
      tooltip: { formatter: (p: { value: [number, number, number] }) => string };
      visualMap: { max: number };
    };
    expect(option.series[0]?.data).toEqual([
      [0, 0, 0],
      [0, 1, 0],
    ]);
    expect(option.visualMap.max).toBeCloseTo(Math.log2(3), 12);
    expect(option.series[0]?.label.formatter({ value: [0, 1, 0] })).toBe('0.00 bits · prev, sink');
    expect(option.tooltip.formatter({ value: [0, 1, 0] })).toContain('on previous token: 1.0000');
  });
});

describe('colour scales (issue 19, item 1)', () => {
  const signed = heatmapOption({ title: 't', rows: ['a', 'b'], cols: ['x', 'y'], value: (r, c) => (r === c ? 0.34 : -0.34), xName: 'x', yName: 'y', min: -0.34, max: 0.34, diverging: true });

  it('shows a signed range with a true minus sign, and zero without one', () => {
    expect(formatScaleValue(-0.34)).toBe('−0.34');
    expect(formatScaleValue(0.34)).toBe('0.34');
    expect(formatScaleValue(-0.001)).toBe('0.00');
    const scale = (signed as { visualMap: { formatter: (v: number) => string } }).visualMap;
    expect([scale.formatter(-0.34), scale.formatter(0.34)]).toEqual(['−0.34', '0.34']);
  });

  it('puts its values to the right of the bar, in room the plot leaves free', () => {
    const option = signed as { grid: { right: number }; visualMap: { align: string; right: number; itemWidth: number } };
    // Labels on the left of the bar used to run into the plot and hide the minus sign behind it.
    expect(option.visualMap.align).toBe('left');
    const labelWidth = 40;
    expect(option.visualMap.right + option.visualMap.itemWidth + 5 + labelWidth).toBeLessThanOrEqual(option.grid.right);
    expect(option.grid.right).toBe(COLOUR_SCALE_ROOM);
  });

  it('head statistics and small multiples use the same scale', () => {
    const multiples = smallMultiplesOption({
      title: 't',
      rows: ['a'],
      cols: ['a'],
      panels: [{ title: 'p', value: () => 1 }],
      columns: 1,
      panelHeight: 100,
      xName: 'x',
      yName: 'y',
      min: 0,
      max: 1,
      showAxisLabels: true,
    }) as { visualMap: { align: string } };
    expect(multiples.visualMap.align).toBe('left');
  });
});
