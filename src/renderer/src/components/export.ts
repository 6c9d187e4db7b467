import { init, type EChartsCoreOption } from 'echarts/core';

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
export function optionToSvg(option: EChartsCoreOption, width: number, height: number): string {
  const host = document.createElement('div');
  const chart = init(host, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false, backgroundColor: '#ffffff' });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
