import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, downloadCsv, expect, expectChartDrawn, ntl, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

const PROMPT = 'The cat sat on the mat';


test.describe('a model whose attention is fused into GroupQueryAttention (issue 15)', () => {
  test('imported with the folder picker, its Attend cell shows the recomputed weights, the same as ntl attention', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const source = join(mkdtempSync(join(tmpdir(), 'ntl-e2e-import-')), 'llama-fused-gqa');
    cpSync(join(ROOT, 'tests', 'fixtures', 'models', 'llama-fused-gqa'), source, { recursive: true });
    await page.getByTestId('models-open').click();
    await page.getByTestId('model-folder-input').setInputFiles(source);
    await expect(page.getByTestId('import-status')).toContainText('Added', { timeout: 60_000 });
    const row = page.locator('[data-testid="model-row"][data-model-id="llama-fused-gqa"]');
    const view = row.locator('[data-testid="model-view"][data-view="attention"]');
    await expect(view).toHaveAttribute('data-ok', 'true');
    await expect(view).toHaveAttribute('title', /recomputed from GroupQueryAttention's Q and K/);
    await expect(row.getByTestId('model-attention-source')).toHaveText("recomputed from GroupQueryAttention's Q and K");
    await expect(page.getByTestId('model-select')).toHaveValue('llama-fused-gqa');
    await nb.waitForModel();
    await page.getByTestId('models-close').click();
    // Generation keeps the operator's own path on its cache.
    await expect(page.getByTestId('kv-cache')).toHaveText('generates on a key/value cache');
    await nb.setPrompt(PROMPT);
    await nb.runAllAndWait();

    const cell = nb.cell('attend');
    await expect(cell.getByTestId('attend-note')).toHaveCount(1);
    await expect(cell.getByTestId('attend-note')).toContainText("attention weights recomputed from GroupQueryAttention's Q and K");
    await expect(cell.getByTestId('attend-summary')).toContainText('Its row sums to 1.0000');
    const reference = ntl(['attention', '--model', join(server.workspace, 'models', 'llama-fused-gqa'), '--prompt', PROMPT]) as {
      tokens: { id: number }[];
      layers: number;
      heads: number;
      attention: number[][][][];
    };
    expect([reference.layers, reference.heads]).toEqual([2, 8]);
    expect(await nb.tokenIds()).toEqual(reference.tokens.map((t) => t.id));
    const grid = cell.getByTestId('attend-layers-grid');
    await expect(grid).toHaveAttribute('data-layers', '2');
    await expect(grid).toHaveAttribute('data-heads', '8');
    await expectChartDrawn(grid.getByTestId('chart-attention-layers'));
    // Every causal weight of every layer and head in the cell's export equals the command line's.
    const csv = await downloadCsv(page, grid);
    const n = reference.tokens.length;
    expect(csv.length - 1).toBe(2 * 8 * ((n * (n + 1)) / 2));
    for (const [layer, head, query, key, weight] of csv.slice(1)) {
      const expected = reference.attention[Number(layer)]?.[Number(head)]?.[Number(query?.split(':')[0])]?.[Number(key?.split(':')[0])];
      expect(Math.abs(Number(weight) - (expected ?? NaN))).toBeLessThan(1e-5);
    }
    rmSync(source, { recursive: true, force: true });
    rmSync(join(server.workspace, 'models', 'llama-fused-gqa'), { recursive: true, force: true });
  });
});
