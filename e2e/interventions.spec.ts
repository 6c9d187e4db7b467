import { expect, expectChartDrawn, expectChartsPainted, ntl, test } from './fixtures';
import { FilesPage } from './pages/files-page';
import { NotebookPage } from './pages/notebook-page';

const BANK = 'She took her money to the bank. At the bank she';

interface Change {
  token: string;
  before: number;
  after: number;
}

test.describe('interventions in Predict', () => {
  test('switching off every head of layer 1 gives the distribution of ntl predict --ablate-head; removing a token renormalises', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await nb.setPrompt(BANK);
    await nb.runAllAndWait();
    const panel = page.getByTestId('intervene');
    await panel.locator('summary').click();
    await expect(panel.getByTestId('intervene-head')).toHaveCount(3 * 4);
    await expect(panel.getByTestId('intervene-run')).toBeDisabled();
    await panel.locator('[data-testid="intervene-layer"][data-layer="1"]').click();
    await expect(panel.locator('[data-testid="intervene-head"]:checked')).toHaveCount(4);
    await panel.getByTestId('intervene-run').click();

    const summary = panel.getByTestId('intervene-summary');
    await expect(summary).toBeVisible();
    const cli = ntl(['predict', '--prompt', BANK, ...[0, 1, 2, 3].flatMap((h) => ['--ablate-head', `1:${h}`])])['top_token_change'] as Change;
    expect(cli.token).toBe(' deposited');
    expect(Number(await summary.getAttribute('data-before'))).toBeCloseTo(cli.before, 4);
    expect(Number(await summary.getAttribute('data-after'))).toBeCloseTo(cli.after, 4);
    // Issue 19, item 8: a whole layer switched off is named once.
    await expect(summary).toContainText('every head of layer 1 off');
    await expect(summary).toContainText(`${(cli.before * 100).toFixed(1)}% → ${(cli.after * 100).toFixed(1)}%`);
    await expect(panel.getByTestId('chart-intervene')).toBeVisible();

    // The heads back on; the first "bank" (position 6) taken out of the last position's attention.
    await panel.locator('[data-testid="intervene-layer"][data-layer="1"]').click();
    await expect(panel.locator('[data-testid="intervene-head"]:checked')).toHaveCount(0);
    const keyOptions = await panel.getByTestId('intervene-key').locator('option').allTextContents();
    const bank = keyOptions.findIndex((t) => t.includes('bank'));
    expect(bank).toBeGreaterThan(0);
    await panel.getByTestId('intervene-key').selectOption(String(bank));
    await panel.getByTestId('intervene-add-removal').click();
    await expect(panel.getByTestId('intervene-removal')).toHaveCount(1);
    await panel.getByTestId('intervene-run').click();
    await expect(summary).toContainText('removed from position 11');
    const before = Number(await summary.getAttribute('data-before'));
    const after = Number(await summary.getAttribute('data-after'));
    expect(before).toBeCloseTo(cli.before, 4);
    expect(Math.abs(after - before)).toBeGreaterThan(1e-4);
    // The bars' animation over before the picture.
    await expectChartsPainted(page.getByTestId('cell-predict'));
    await page.getByTestId('cell-predict').screenshot({ path: test.info().outputPath('predict-intervene.png') });

    // Issue 19, item 8: after a prompt edit the comparison stays, marked out of date.
    await expect(panel.getByTestId('intervene-stale')).toHaveCount(0);
    await nb.setPrompt(`${BANK} and`);
    await expect(panel.getByTestId('intervene-stale')).toBeVisible();
    await panel.getByTestId('intervene-summary').screenshot({ path: test.info().outputPath('intervene-stale.png') });
  });

  test('the residual stream view: what the attention and MLP of each block add, per position, exported as CSV', async ({ page }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await nb.runAllAndWait();
    const n = (await nb.tokenIds()).length;
    await page.getByTestId('predict-writes-toggle').check();
    await expectChartDrawn(page.getByTestId('chart-residual-writes'));
    const panel = page.getByTestId('chart-residual-writes').locator('..');
    const rows = async (): Promise<string[][]> =>
      (await files.download(panel.getByTestId('export-csv'))).bytes.toString().trim().split('\n').slice(1).map((line) => line.split(','));
    const attention = await rows();
    // 3 blocks × n positions, each a norm greater than zero.
    expect(attention).toHaveLength(3 * n);
    expect(attention.every((r) => r[0] === 'attention' && Number(r.at(-1)) > 0)).toBe(true);
    await page.getByTestId('writes-mlp').check();
    expect((await rows()).every((r) => r[0] === 'mlp')).toBe(true);
    await page.getByTestId('writes-stream').check();
    const stream = await rows();
    // 4 boundaries: into blocks 0, 1, 2 and into the final norm.
    expect(stream).toHaveLength(4 * n);
    expect(stream.at(-1)?.[1]).toBe('into the final norm');
    await page.getByTestId('writes-attention').check();
    await expectChartsPainted(page.getByTestId('chart-residual-writes'));
    await page.getByTestId('chart-residual-writes').screenshot({ path: test.info().outputPath('residual-writes.png') });
  });
});
