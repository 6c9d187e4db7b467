import { expect, expectChartDrawn, expectChartsPainted, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

// Issue 19, item 5: a heatmap of more than 3,000 cells is painted over several frames; a new run
// that replaces it in between used to leave a frame that threw "Cannot read properties of null
// (reading 'layerStack')". The fixture fails the test on any page error; this spec provokes the race.
test('charts replaced while a long prompt is still being painted: no page error', async ({ page, chromiumContext }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const nb = new NotebookPage(page);
  await nb.waitForModel();
  await nb.setPrompt('I ☀️ 🌞 the 🌍 moon 🚀');
  await nb.runAllAndWait();
  const long = 'The sun rises in the east. '.repeat(750);
  await nb.setPrompt(long);
  await nb.runAllAndWait();
  // A slower CPU (as on a modest laptop) makes each large heatmap take several frames to paint.
  const cdp = await chromiumContext.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 8 });
  try {
    for (let round = 0; round < 3; round++) {
      for (const name of ['embedding', 'similarity', 'attention']) await expectChartDrawn(page.getByTestId(`chart-${name}`).first());
      await nb.setPrompt(round % 2 === 0 ? `${long} x` : long);
      await nb.runAllAndWait();
    }
  } finally {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  }
  // Every frame of the last charts painted: an error from a late frame has been seen by now.
  for (const name of ['embedding', 'similarity', 'attention']) await expectChartsPainted(page.getByTestId(`chart-${name}`).first());
  expect(errors).toEqual([]);
});
