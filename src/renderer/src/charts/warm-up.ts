import { init, type ECharts, type EChartsCoreOption } from 'echarts/core';
import { barsOption, heatmapOption, lineOption } from './options';

/**
 * The parts of a chart's option set one task at a time: the frame (title, grid, axes), then the
 * tooltip, legend and colour scale, then the series. Each first use of a part compiles its code;
 * set all at once, the heatmap's first draw was one task of 90–570 ms at start (issue 18).
 */
const STAGES: readonly (readonly string[])[] = [
  ['title', 'grid', 'xAxis', 'yAxis'],
  ['tooltip', 'legend', 'visualMap'],
  ['series'],
];

function pick(option: EChartsCoreOption, keys: readonly string[]): EChartsCoreOption {
  return Object.fromEntries(Object.entries(option).filter(([key]) => keys.includes(key)));
}

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
    for (const keys of STAGES) steps.push(() => chart?.setOption(pick(option, keys)));
    steps.push(() => chart?.dispose());
  }
  const next = (): void => {
    steps.shift()?.();
    if (steps.length > 0) setTimeout(next, 0);
  };
  setTimeout(next, 0);
}
