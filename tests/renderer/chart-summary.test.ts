import { describe, expect, it } from 'vitest';
import { chartSummary } from '../../src/renderer/src/charts/chart-summary';
import { barsOption, heatmapOption, lineOption } from '../../src/renderer/src/charts/options';

describe("a chart's text alternative (issue 19, item 12)", () => {
  it('names the title and the key figure of the data the chart draws', () => {
    expect(chartSummary(barsOption({ title: 'Characters per token', labels: ['The', '␣rises', '␣in'], values: [3, 6, 3], xName: 'characters', isCount: true }))).toBe(
      'Characters per token: 3 bars; the largest, ␣rises, is 6',
    );
    expect(chartSummary(lineOption({ title: 'Entropy per step', labels: ['1', '2'], series: [{ name: 'A', values: [1, 2] }, { name: 'B', values: [0.5, null] }], xName: 'step', yName: 'bits' }))).toBe(
      'Entropy per step: 2 lines (A, B) over 2 points',
    );
    const values = [
      [1, null],
      [0.25, 0.75],
    ];
    const heat = heatmapOption({ title: 'Layer 0, head 1', rows: ['a', 'b'], cols: ['a', 'b'], value: (r, c) => values[r]?.[c] ?? null, xName: 'key', yName: 'query', min: 0, max: 1 });
    expect(chartSummary(heat)).toBe('Layer 0, head 1: 3 cells, values from 0.25 to 1');
    expect(chartSummary({})).toBe('Chart');
  });
});
