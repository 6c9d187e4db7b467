import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, expectChartDrawn, expectChartsPainted, ROOT, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

const PROMPT = 'The sun rises in the east and the moon rises at night.';

test.describe('embeddings and positions in the Embed cell', () => {
  test('PCA of the prompt tokens, nearest neighbours of a token, learned positions and their similarities', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    await nb.runAllAndWait();
    const cell = nb.cell('embed');
    const ids = await nb.tokenIds();

    // One point per token, axes named with their share of the variance.
    const pca = cell.getByTestId('embed-pca');
    await expect(pca).toHaveAttribute('data-points', String(ids.length));
    await expectChartDrawn(pca.getByTestId('chart-pca'));
    const ratio1 = Number(await pca.getAttribute('data-ratio1'));
    const ratio2 = Number(await pca.getAttribute('data-ratio2'));
    expect(ratio1).toBeGreaterThan(0);
    expect(ratio1 + ratio2).toBeLessThanOrEqual(1 + 1e-9);
    expect(ratio1).toBeGreaterThanOrEqual(ratio2);

    // Neighbours of " sun" (position 1): itself first at 1.000, then " moon".
    // Issue 19, item 8: the width beside the heatmap says how many of the dimensions it shows.
    await expect(cell.getByTestId('embed-width')).toHaveText('128 dimensions per vector, 64 shown (0–63)');
    const near = cell.getByTestId('embed-neighbours');
    await near.getByTestId('embed-neighbours-token').selectOption('1');
    const rows = near.getByTestId('neighbour-row');
    await expect(rows).toHaveCount(10);
    await expect(rows.first()).toHaveAttribute('data-id', String(ids[1]));
    await expect(rows.first()).toHaveAttribute('data-similarity', '1');
    await expect(rows.first()).toContainText('1.000');
    await expect(rows.nth(1)).toContainText('moon');
    await expectChartDrawn(near.getByTestId('chart-neighbours'));
    const download = page.waitForEvent('download');
    await near.getByTestId('export-csv').click();
    const csv = readFileSync((await (await download).path()) ?? '', 'utf8').split('\n');
    expect(csv[0]).toBe('rank,id,token,cosine similarity');
    expect(csv[1]).toBe(`1,${ids[1]}, sun,1`);

    // Any single token can be typed; more than one token is refused with the pieces named.
    await near.getByTestId('embed-neighbours-text').fill(' moon');
    await near.getByTestId('embed-neighbours-lookup').click();
    await expect(near).toHaveAttribute('data-token', ' moon');
    await expect(rows.first()).toContainText('moon');
    // Issue 19, item 4: the placeholder's "moon" is three tokens without its leading space; the
    // lookup offers " moon" and says so.
    await near.getByTestId('embed-neighbours-text').fill('moon');
    await near.getByTestId('embed-neighbours-lookup').click();
    await expect(near.getByTestId('embed-neighbours-note')).toContainText('this shows "␣moon" instead');
    await expect(near).toHaveAttribute('data-token', ' moon');
    await expect(rows.first()).toContainText('moon');
    await expect(near.getByTestId('embed-neighbours-error')).toHaveCount(0);
    await near.getByTestId('embed-neighbours-text').fill('zqxv');
    await near.getByTestId('embed-neighbours-lookup').click();
    await expect(near.getByTestId('embed-neighbours-error')).toContainText('tokens');
    // While the error shows, the previous token's neighbours are gone.
    await expect(rows).toHaveCount(0);
    await expect(near.getByTestId('embed-neighbours-note')).toHaveCount(0);

    // Learned positions: the table's first 64 rows, similarity 1 on the diagonal; 16 on request.
    const positions = cell.getByTestId('embed-positions');
    await expect(positions).toHaveAttribute('data-kind', 'learned');
    const similarity = positions.getByTestId('embed-position-similarity');
    await expect(similarity).toHaveAttribute('data-count', '64');
    await expect(similarity).toHaveAttribute('data-diagonal', '1');
    await expectChartDrawn(positions.getByTestId('chart-positions'));
    await expectChartDrawn(similarity.getByTestId('chart-position-similarity'));
    await positions.getByTestId('embed-position-count').selectOption('16');
    await expect(similarity).toHaveAttribute('data-count', '16');
    await positions.getByTestId('embed-position-count').selectOption('64');
    await expect(similarity).toHaveAttribute('data-count', '64');

    // Back to " sun" for the picture. The picker still holds position 1 from before the typed
    // lookups, and choosing the chosen one again looks nothing up: another position first.
    await near.getByTestId('embed-neighbours-token').selectOption('2');
    await expect(rows.first()).toHaveAttribute('data-id', String(ids[2]));
    await near.getByTestId('embed-neighbours-token').selectOption('1');
    await expect(rows.first()).toHaveAttribute('data-id', String(ids[1]));
    await expectChartsPainted(cell);
    // The sticky top bar would cover part of a cell taller than the window.
    await cell.screenshot({ path: process.env['NTL_EMBED_SHOT'] ?? test.info().outputPath('embed.png'), style: '.topbar { visibility: hidden; }' });
  });

  test.describe('on a server of its own', () => {
    // The import adds a model: to a models folder of this test's own, removed when it ends, passed or failed.
    test.use({ ownWorkspace: true });

    test('a rotary model (llama-tiny, imported) shows its rotation angle per dimension pair instead of a position table', async ({ page, scratch, server, sharedServer }) => {
      const nb = new NotebookPage(page);
      await nb.waitForModel();
      const source = join(scratch, 'llama-tiny');
      cpSync(join(ROOT, 'tests', 'fixtures', 'models', 'llama-tiny'), source, { recursive: true });
      await page.getByTestId('models-open').click();
      await page.getByTestId('model-folder-input').setInputFiles(source);
      await expect(page.getByTestId('import-status')).toContainText('Added', { timeout: 60_000 });
      await expect(page.getByTestId('model-select')).toHaveValue('llama-tiny');
      await nb.waitForModel();
      await nb.setPrompt('the sun and the moon');
      await nb.runAllAndWait();
      const cell = nb.cell('embed');
      const positions = cell.getByTestId('embed-positions');
      await expect(positions).toHaveAttribute('data-kind', 'rotary');
      const rotary = positions.getByTestId('embed-rotary');
      // Head size 32 / 4 = 8: four pairs, base 10000 from rope_theta, read from the graph.
      await expect(rotary).toHaveAttribute('data-pairs', '4');
      await expect(rotary).toHaveAttribute('data-base', '10000');
      await expect(rotary).toContainText('rotated by position × θᵢ');
      await expect(rotary).toContainText("base 10000 from config.json's rope_theta");
      await expectChartDrawn(rotary.getByTestId('chart-rotary'));
      await expect(positions.getByTestId('embed-position-similarity')).toHaveCount(0);
      const rows = cell.getByTestId('neighbour-row');
      await expect(rows).toHaveCount(10);
      await expect(rows.first()).toHaveAttribute('data-similarity', '1');
      await expectChartsPainted(positions);
      await positions.screenshot({ path: process.env['NTL_ROTARY_SHOT'] ?? test.info().outputPath('rotary.png'), style: '.topbar { visibility: hidden; }' });
      // The model went to this test's own models folder; the one the other tests share is as the fixture made it.
      expect(existsSync(join(server.workspace, 'models', 'llama-tiny'))).toBe(true);
      expect(existsSync(join(sharedServer.workspace, 'models', 'llama-tiny'))).toBe(false);
    });
  });
});
