import { init } from 'echarts/core';
import { barsOption, heatmapOption, lineOption } from './options';

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
  const next = (): void => {
    const option = options.shift();
    if (!option) return;
    const host = document.createElement('div');
    const chart = init(host, null, { width: 400, height: 300 });
    chart.setOption({ ...option, animation: false });
    chart.dispose();
    setTimeout(next, 0);
  };
  setTimeout(next, 0);
}
