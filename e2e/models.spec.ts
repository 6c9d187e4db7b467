import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, expect, ntl, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

const SEED_WORLD = join(ROOT, 'resources', 'models', 'seed-world');

test.describe('models: the list and adding a model folder', () => {
  test('the model list shows what each model is and which views it supports', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await page.getByTestId('models-open').click();
    const row = page.locator('[data-testid="model-row"][data-model-id="seed-world"]');
    await expect(row).toBeVisible();
    const listed = (ntl(['models']).models as Record<string, unknown>[]).find((m) => m['id'] === 'seed-world');
    expect(listed).toMatchObject({ parameters: 742528, precision: 'float32', kv_heads: 4, opset: 17 });
    await expect(row).toContainText('gpt2');
    await expect(row).toContainText('742,528');
    await expect(row).toContainText('float32');
    await expect(row).toContainText(String(listed?.['sha256']).slice(0, 12));
    await expect(row.getByTestId('model-view')).toHaveCount(6);
    for (const view of await row.getByTestId('model-view').all()) await expect(view).toHaveAttribute('data-ok', 'true');
    // The broken folder of the fixture is listed as a problem naming its file.
    await expect(page.getByTestId('model-problems')).toContainText('broken-model');
  });

  test('a picked folder is checked, copied in, listed and usable', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const source = join(mkdtempSync(join(tmpdir(), 'ntl-e2e-import-')), 'My Seed World');
    cpSync(SEED_WORLD, source, { recursive: true });
    await page.getByTestId('models-open').click();
    await page.getByTestId('model-folder-input').setInputFiles(source);
    await expect(page.getByTestId('import-status')).toContainText('Added', { timeout: 60_000 });
    const row = page.locator('[data-testid="model-row"][data-model-id="My-Seed-World"]');
    await expect(row).toBeVisible();
    await expect(row).toContainText('user');
    await expect(page.getByTestId('model-select')).toHaveValue('My-Seed-World');
    await nb.waitForModel();
    await nb.setPrompt('The sun rises in the');
    await nb.runAllAndWait();
    expect((await nb.topPrediction()).text).toMatch(/^ east/);
    expect(readdirSync(join(server.workspace, 'models')).sort()).toEqual(['My-Seed-World', 'broken-model']);
    rmSync(source, { recursive: true, force: true });
    // Other tests share this server: leave its models folder as the fixture made it.
    rmSync(join(server.workspace, 'models', 'My-Seed-World'), { recursive: true, force: true });
  });

  test('a folder that is not a model is refused with the cause, and nothing is added', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const before = readdirSync(join(server.workspace, 'models')).sort();
    const source = join(mkdtempSync(join(tmpdir(), 'ntl-e2e-import-')), 'half-model');
    cpSync(SEED_WORLD, source, { recursive: true });
    rmSync(join(source, 'tokenizer.json'));
    await page.getByTestId('models-open').click();
    await page.getByTestId('model-folder-input').setInputFiles(source);
    await expect(page.getByTestId('import-error')).toContainText('half-model/tokenizer.json is missing');
    expect(readdirSync(join(server.workspace, 'models')).sort()).toEqual(before);
    // The notebook still works.
    await nb.runAllAndWait();
    rmSync(source, { recursive: true, force: true });
  });
});
