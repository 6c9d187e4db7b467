import { expect, expectChartsPainted, ntl, test } from './fixtures';
import { FilesPage } from './pages/files-page';
import { NotebookPage } from './pages/notebook-page';

const A = 'She took her money to the bank. At the bank she';
const B = 'She rowed her boat down the river to the bank. At the bank she';

test.describe('the Context cell', () => {
  test('one word in two prompts: the similarity per depth equals ntl context, both predictions, its attention in each', async ({ page }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    const cell = page.getByTestId('cell-context');
    await expect(cell.getByTestId('context-prompt-a')).toHaveValue(A);
    await expect(cell.getByTestId('context-prompt-b')).toHaveValue(B);
    await cell.getByTestId('context-run').click();
    await expect(cell).toHaveAttribute('data-status', 'done', { timeout: 60_000 });

    const bank = ntl(['context', '--a', A, '--b', B, '--word', ' bank']) as { similarity: number[]; top_a: { token: string }[]; top_b: { token: string }[] };
    const summary = cell.getByTestId('context-summary');
    await expect(summary).toContainText('␣bank');
    expect(Number(await summary.getAttribute('data-first'))).toBeCloseTo(bank.similarity[0] ?? NaN, 4);
    expect(Number(await summary.getAttribute('data-last'))).toBeCloseTo(bank.similarity.at(-1) ?? NaN, 4);
    const simPanel = cell.getByTestId('chart-context-similarity').locator('..');
    const rows = (await files.download(simPanel.getByTestId('export-csv'))).bytes.toString().trim().split('\n').slice(1);
    expect(rows.map((r) => Number(r.split(',').at(-1)))).toEqual(bank.similarity.map((v) => expect.closeTo(v, 4) as unknown as number));

    const dist = (await files.download(cell.getByTestId('chart-context-distributions').locator('..').getByTestId('export-csv'))).bytes.toString().trim().split('\n');
    expect(dist[0]).toBe('id,token,p_A,p_B');
    expect(dist.slice(1).some((r) => r.includes(bank.top_a[0]?.token ?? '?'))).toBe(true);
    expect(dist.slice(1).some((r) => r.includes(bank.top_b[0]?.token ?? '?'))).toBe(true);

    // Where " bank" looks in each prompt (mean of layer 0's heads): every earlier token, weights summing to 1.
    for (const [name, pos] of [['a', 10], ['b', 13]] as const) {
      const panel = cell.getByTestId(`chart-context-attention-${name}`).locator('..');
      const weights = (await files.download(panel.getByTestId('export-csv'))).bytes.toString().trim().split('\n').slice(1).map((r) => Number(r.split(',').at(-1)));
      expect(weights).toHaveLength(pos + 1);
      expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 4);
    }

    // Another shared word: " she", whose vectors part ways in the later blocks.
    const she = ntl(['context', '--a', A, '--b', B, '--word', ' she']) as { similarity: number[] };
    const option = await cell.getByTestId('context-token').locator('option', { hasText: '␣she' }).getAttribute('value');
    await cell.getByTestId('context-token').selectOption(option ?? '');
    await expect(summary).toContainText('␣she');
    // Choosing the word is not a change to the prompts: the results stay up to date.
    await expect(cell).toHaveAttribute('data-status', 'done');
    expect(Number(await summary.getAttribute('data-last'))).toBeCloseTo(she.similarity.at(-1) ?? NaN, 4);
    await expectChartsPainted(cell);
    await cell.screenshot({ path: test.info().outputPath('context.png') });
  });
});
