import { expect, ntl, test } from './fixtures';
import { ComparePage } from './pages/compare-page';
import { NotebookPage } from './pages/notebook-page';

const PROMPT = 'The cat sat on the';

interface Generated {
  text: string;
  steps: { id: number }[];
}

test.describe('the Compare cell', () => {
  test('two columns give the tokens of ntl generate; a fork at step 2 branches in the tree', async ({ page }) => {
    const nb = new NotebookPage(page);
    const compare = new ComparePage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    await expect(compare.columns).toHaveCount(2);
    await expect(compare.cell).toHaveAttribute('data-status', 'idle');
    // Column B: top-k, T 0.8, k 5, seed 42 by default; make its seed 7 to see the seed matter.
    await compare.setField(1, 'compare-seed', '7');
    // One step first: every column one token; then Run takes them on to 8 from there.
    await compare.cell.getByTestId('compare-step').click();
    await expect(compare.cell).toHaveAttribute('data-status', 'done');
    await expect(compare.column(0).getByTestId('compare-step-token')).toHaveCount(1);
    await expect(compare.column(1).getByTestId('compare-step-token')).toHaveCount(1);
    await compare.runAndWait();

    const greedy = ntl(['generate', '--model', 'seed-world', '--prompt', PROMPT, '--strategy', 'greedy', '--seed', '42', '--max-tokens', '8']) as unknown as Generated;
    const topK = ntl(['generate', '--model', 'seed-world', '--prompt', PROMPT, '--strategy', 'top-k', '--temperature', '0.8', '--top-k', '5', '--seed', '7', '--max-tokens', '8']) as unknown as Generated;
    await expect(compare.outputs.nth(0)).toHaveText(greedy.text);
    await expect(compare.outputs.nth(1)).toHaveText(topK.text);
    expect(await compare.tokenIds(0)).toEqual(greedy.steps.map((s) => s.id));
    expect(await compare.tokenIds(1)).toEqual(topK.steps.map((s) => s.id));
    await expect(compare.cell.getByTestId('compare-metrics-row')).toHaveCount(2);
    await expect(compare.cell.getByTestId('compare-metrics-row').nth(0)).toContainText('greedy');
    await expect(compare.cell.getByTestId('chart-compare-entropy')).toBeVisible();

    // Step 2 of column A: the distribution, then a fork from another token.
    await compare.selectStep(0, 2);
    await expect(compare.cell.getByTestId('chart-compare-distribution')).toBeVisible();
    const alternatives = compare.cell.getByTestId('compare-alternative');
    expect(await alternatives.count()).toBeGreaterThanOrEqual(10);
    // Greedy keeps only its choice: every other alternative is cut.
    await expect(compare.cell.locator('[data-testid="compare-alternative"][data-kept="true"]')).toHaveCount(1);
    const clicked = compare.forkable().first();
    const clickedId = Number(await clicked.getAttribute('data-id'));
    expect(clickedId).not.toBe(greedy.steps[1]?.id);
    await clicked.click();
    await expect(compare.columns).toHaveCount(3);
    await expect(compare.column(2).getByTestId('compare-forked-from')).toHaveText('Forked from A at step 2.');
    expect(await compare.tokenIds(2)).toEqual([greedy.steps[0]?.id, clickedId]);

    // Run again: the fork catches up to 8 tokens, the other columns stay as they were.
    await compare.runAndWait();
    const forked = await compare.tokenIds(2);
    expect(forked).toHaveLength(8);
    expect(forked.slice(0, 2)).toEqual([greedy.steps[0]?.id, clickedId]);
    expect(await compare.tokenIds(0)).toEqual(greedy.steps.map((s) => s.id));
    await expect(compare.tree).toBeVisible();
    await compare.tree.scrollIntoViewIfNeeded();
    await expect(compare.tree.locator('canvas')).toHaveCount(1);

    // Exports: the CSV has a row per column and step.
    const download = page.waitForEvent('download');
    await compare.cell.getByTestId('compare-export-csv').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('comparison.csv');
    const csv = await (await file.createReadStream()).toArray();
    const lines = Buffer.concat(csv).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(1 + 3 * 8);
    expect(lines[0]?.startsWith('column,strategy,')).toBe(true);
    const jsonDownload = page.waitForEvent('download');
    await compare.cell.getByTestId('compare-export-json').click();
    const jsonFile = await jsonDownload;
    const doc = JSON.parse(Buffer.concat(await (await jsonFile.createReadStream()).toArray()).toString('utf8')) as {
      model: string;
      columns: { name: string; text: string; seed: number; forkedFrom: { column: string; step: number } | null; steps: { alternatives: unknown[] }[] }[];
    };
    expect(doc.model).toBe('seed-world');
    expect(doc.columns.map((c) => c.name)).toEqual(['A', 'B', 'C']);
    expect(doc.columns[0]?.text).toBe(greedy.text);
    expect(doc.columns[1]?.seed).toBe(7);
    expect(doc.columns[2]?.forkedFrom).toEqual({ column: 'A', step: 2 });
    expect(doc.columns[0]?.steps[0]?.alternatives.length).toBeGreaterThanOrEqual(10);
  });

  test('bad input is refused at the control: out-of-range parameters and a seventh column', async ({ page }) => {
    const nb = new NotebookPage(page);
    const compare = new ComparePage(page);
    await nb.waitForModel();
    // The rule of cells/field-rules.ts: the field named as labelled, the range, the typed text kept until corrected.
    await compare.setField(1, 'compare-temperature', '-1');
    await expect(compare.controlError).toHaveText('Column B: temperature must be from 0.05 to 5, not −1.');
    await expect(compare.column(1).getByTestId('compare-temperature')).toHaveValue('-1');
    await expect(compare.column(1).getByTestId('compare-temperature')).toHaveAttribute('aria-invalid', 'true');
    await compare.setField(1, 'compare-temperature', '0.8');
    await expect(compare.controlError).toHaveCount(0);
    await compare.setField(1, 'compare-top-k', '2000');
    await expect(compare.controlError).toHaveText("Column B: top-k must be a whole number from 1 to 1,024 (the model's vocabulary size), not 2000.");
    await expect(compare.column(1).getByTestId('compare-top-k')).toHaveValue('2000');
    await compare.setField(0, 'compare-seed', '-3');
    await expect(compare.controlError).toContainText('Column A: Seed must be a whole number from 0 to 4,294,967,295, not −3.');
    await compare.setField(1, 'compare-top-k', '3');
    await compare.setField(0, 'compare-seed', '3');
    await expect(compare.controlError).toHaveCount(0);
    for (let n = 3; n <= 6; n++) {
      await compare.cell.getByTestId('compare-add-column').click();
      await expect(compare.columns).toHaveCount(n);
    }
    await compare.cell.getByTestId('compare-add-column').click();
    await expect(compare.controlError).toHaveText('a comparison has at most 6 columns');
    await expect(compare.columns).toHaveCount(6);
    await compare.column(5).getByTestId('compare-remove-column').click();
    await expect(compare.columns).toHaveCount(5);
  });

  test('a long run can be cancelled: the columns keep the tokens they have', async ({ page }) => {
    const nb = new NotebookPage(page);
    const compare = new ComparePage(page);
    await nb.waitForModel();
    await compare.setMaxTokens(400);
    await compare.cell.getByTestId('compare-run').click();
    await expect(compare.column(1).getByTestId('compare-step-token').nth(2)).toBeVisible();
    await compare.cell.getByTestId('compare-cancel').click();
    await expect(compare.cell).toHaveAttribute('data-status', 'done');
    // Both columns counted in one snapshot of the page, once two snapshots agree (a step that was
    // under way when Cancel was pressed may still be drawing on a busy machine).
    const counts = (): Promise<number[]> =>
      compare.cell.evaluate((cell) => [...cell.querySelectorAll('[data-testid="compare-column"]')].slice(0, 2).map((c) => c.querySelectorAll('[data-testid="compare-step-token"]').length));
    let last = '';
    await expect.poll(async () => {
      const now = JSON.stringify(await counts());
      const stable = now === last;
      last = now;
      return stable;
    }).toBe(true);
    const [a = 0, b = 0] = JSON.parse(last) as number[];
    expect(a).toBeGreaterThanOrEqual(3);
    expect(a).toBeLessThan(400);
    // Columns step in turns: they end at most one token apart.
    expect(a - b).toBeGreaterThanOrEqual(0);
    expect(a - b).toBeLessThanOrEqual(1);
    await expect(compare.cell.getByTestId('compare-step')).toBeEnabled();
  });
});
