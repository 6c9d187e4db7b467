import { readFileSync } from 'node:fs';
import { expect, expectChartDrawn, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

/** Text labels of an SVG export with the x where each starts. */
function svgTexts(svg: string): { text: string; x: number; anchor: string }[] {
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map((m) => {
    const attributes = m[1] ?? '';
    const x = /transform="(?:translate|matrix)\(([-\d.]+)[ ,]/.exec(attributes)?.[1] ?? /\sx="([-\d.]+)"/.exec(attributes)?.[1] ?? 'NaN';
    return { text: m[2] ?? '', x: Number(x), anchor: /text-anchor="(\w+)"/.exec(attributes)?.[1] ?? 'start' };
  });
}

// Issue 19, item 1: the Embed heatmap of token + position read "0.34 … 0.34": the scale's labels
// sat left of its bar, over the plot, which hid the minus sign.
test('the embedding heatmap colour scale shows its signed range outside the plot', async ({ page }) => {
  const nb = new NotebookPage(page);
  await nb.waitForModel();
  await nb.runAllAndWait();
  await page.getByTestId('embed-part').selectOption('sum');
  const host = page.getByTestId('chart-embedding');
  await expectChartDrawn(host);
  const width = await host.evaluate((element) => element.clientWidth);
  const panel = page.locator('figure.chart-panel', { has: host });
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('export-svg').click()]);
  const svg = readFileSync(await download.path()).toString();
  const scale = svgTexts(svg).filter((t) => /^[−-]?\d+\.\d\d$/.test(t.text));
  const texts = scale.map((t) => t.text).sort();
  expect(texts).toHaveLength(2);
  const [high, low] = texts;
  expect(low).toMatch(/^−0\.\d\d$/);
  expect(high).toBe(low?.slice(1));
  // The plot ends 100 px from the right edge; the labels start right of the 14 px bar within it.
  for (const label of scale) {
    expect(label.anchor).toBe('start');
    expect(label.x).toBeGreaterThan(width - 100 + 14);
  }
});
