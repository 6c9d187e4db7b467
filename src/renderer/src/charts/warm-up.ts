import { init, type ECharts, type EChartsCoreOption } from 'echarts/core';
import { barsOption, heatmapOption, lineOption } from './options';

/** The option's entries named by `keys`. */
const pick = (...keys: string[]) => (option: EChartsCoreOption): EChartsCoreOption =>
  Object.fromEntries(Object.entries(option).filter(([key]) => keys.includes(key)));

/** The option's series without their data: the series' models and views are built, nothing drawn. */
function emptySeries(option: EChartsCoreOption): EChartsCoreOption {
  const series = ([] as Record<string, unknown>[]).concat((option['series'] ?? []) as Record<string, unknown>[]);
  return { series: series.map((one) => ({ ...one, data: [] })) };
}

/**
 * The parts of a chart's option set one task at a time: the title, the grid, the axes, the tooltip
 * and legend, the colour scale, the series without data, then with it. Each first use of a part
 * compiles its code; set all at once, the heatmap's first draw was one task of 90–570 ms at start,
 * and in three parts (frame, the components, the series) its frame still took 37–81 ms (issue 18).
 */
const STAGES: readonly ((option: EChartsCoreOption) => EChartsCoreOption)[] = [
  pick('title'),
  pick('grid'),
  pick('xAxis', 'yAxis'),
  pick('tooltip', 'legend'),
  pick('visualMap'),
  emptySeries,
  pick('series'),
];

/**
 * Draws one small chart of each kind off screen while the page is idle, so the first real run does
 * not pay for compiling the chart code on the UI thread. Draws no data of the user's.
 */
export function warmUpCharts(): void {
  const options = [
    heatmapOption({ title: '', rows: ['a', 'b'], cols: ['a', 'b'], value: () => 0.5, xName: '', yName: '', min: 0, max: 1, showValues: true }),
    barsOption({ title: '', labels: ['a', 'b'], values: [0.5, 0.5], xName: '', asPercent: true }),
    lineOption({ title: '', labels: ['a', 'b'], series: [{ name: '', values: [0.5, 0.5] }], xName: '', yName: '' }),
  ];
  const steps: (() => void)[] = [];
  for (const option of options) {
    let chart: ECharts | null = null;
    steps.push(() => {
      chart = init(document.createElement('div'), null, { width: 400, height: 300 });
      chart.setOption({ animation: false });
    });
    for (const stage of STAGES) steps.push(() => chart?.setOption(stage(option)));
    steps.push(() => chart?.dispose());
  }
  const next = (): void => {
    steps.shift()?.();
    if (steps.length > 0) setTimeout(next, 0);
  };
  setTimeout(next, 0);
}
