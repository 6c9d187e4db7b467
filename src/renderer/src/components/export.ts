import type { EChartsCoreOption } from 'echarts/core';
import { loadECharts } from '../charts/load-echarts';

/** Saves a blob under a file name through the browser's download mechanism. */
export function downloadBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Renders an option with the SVG renderer off screen and returns the SVG document. */
export async function optionToSvg(option: EChartsCoreOption, width: number, height: number, backgroundColor = '#ffffff'): Promise<string> {
  const { init } = await loadECharts();
  const host = document.createElement('div');
  const chart = init(host, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false, backgroundColor });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/**
 * The option with the export caption (model and prompt) as the title's subtitle, and room made for
 * it below the title so that it never covers the plot. With several titles (small multiples, whose
 * layout leaves that room), the first one takes the caption and the others stay.
 */
export function withCaption(option: EChartsCoreOption, caption: string): EChartsCoreOption {
  const title = option['title'];
  const [first, ...others]: unknown[] = Array.isArray(title) ? title : [title];
  const base = first !== null && typeof first === 'object' ? first : {};
  const grid = option['grid'];
  const gridBase = grid !== null && typeof grid === 'object' && !Array.isArray(grid) ? grid : {};
  const top = 'top' in gridBase && typeof gridBase.top === 'number' ? gridBase.top : 60;
  const captioned = { ...base, subtext: caption, left: 'center', subtextStyle: { color: '#5b6576', width: 700, overflow: 'truncate' } };
  return {
    ...option,
    title: Array.isArray(title) ? [captioned, ...others] : captioned,
    ...(grid === undefined || Array.isArray(grid) ? {} : { grid: { ...gridBase, top: top + 18 } }),
  };
}
