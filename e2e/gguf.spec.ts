import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GGUF_BROWSER_NOTE } from '../src/common/gguf-notes';
import { ROOT, expect, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

const TWIN = join(ROOT, 'tests', 'fixtures', 'models', 'gpt2-gguf-twin');
const SHOTS = process.env['NTL_SHOTS'];

/** LM Studio's and Ollama's folders, laid out as those apps lay them out, in the server's workspace (e2e/fixtures.ts points it there). */
function layAppFolders(workspace: string): void {
  const lm = join(workspace, 'apps', 'lmstudio', 'ntl-tests', 'twin-GGUF');
  mkdirSync(lm, { recursive: true });
  copyFileSync(join(TWIN, 'gpt2-gguf-twin-f32.gguf'), join(lm, 'twin-F32.gguf'));
  const ollama = join(workspace, 'apps', 'ollama');
  const q8 = readFileSync(join(TWIN, 'gpt2-gguf-twin-q8_0.gguf'));
  const digest = createHash('sha256').update(q8).digest('hex');
  mkdirSync(join(ollama, 'blobs'), { recursive: true });
  writeFileSync(join(ollama, 'blobs', `sha256-${digest}`), q8);
  const manifest = join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'twin');
  mkdirSync(manifest, { recursive: true });
  writeFileSync(join(manifest, 'latest'), JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}`, size: q8.length }] }));
}

test.describe('GGUF models in the Models panel (browser build)', () => {
  test("offers LM Studio's and Ollama's GGUF files, adds one by path, shows its metadata, and says plainly that this build does not run it", async ({ page, server }) => {
    layAppFolders(server.workspace);
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await page.getByTestId('models-open').click();
    const gguf = page.getByTestId('gguf-models');
    await expect(gguf.getByTestId('gguf-statement')).toContainText(GGUF_BROWSER_NOTE);
    // Adding a .gguf from disk needs the desktop app's file dialog (or ntl import): the button says so.
    await expect(gguf.getByTestId('gguf-add-file')).toBeDisabled();
    const rows = gguf.getByTestId('gguf-found-row');
    await expect(rows).toHaveCount(2);
    const ollama = gguf.locator('[data-testid="gguf-found-row"][data-name="twin:latest"]');
    await expect(ollama).toContainText('Ollama');
    await expect(ollama).toContainText('gpt2');
    await expect(ollama).toContainText('Q8_0');
    await expect(gguf.locator('[data-testid="gguf-found-row"][data-name="ntl-tests/twin-GGUF/twin-F32.gguf"]')).toContainText('LM Studio');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'gguf-found.png'), fullPage: true });

    await ollama.getByTestId('gguf-add').click();
    await expect(gguf.getByTestId('gguf-status')).toContainText('Added twin:latest (twin-latest): gpt2, Q8_0, registered where it is, not copied.');
    await expect(ollama.getByTestId('gguf-registered')).toHaveText('added as twin-latest');
    const row = page.locator('[data-testid="model-row"][data-model-id="twin-latest"]');
    await expect(row).toBeVisible();
    await expect(row.getByTestId('model-gguf')).toContainText('GGUF v3 · sha256-');
    await expect(row.getByTestId('model-gguf')).toContainText('tensors 18 F32, 11 Q8_0');
    await expect(row).toContainText('48,000');
    await expect(row.locator('[data-view="attention"]')).toHaveAttribute('data-ok', 'false');
    await expect(row.locator('[data-view="attention"]')).toHaveAttribute('title', "llama.cpp's public API does not expose attention weights");
    await expect(row.locator('[data-view="embeddings"]')).toHaveAttribute('data-ok', 'true');
    // The panel's Add switches to the model: this build cannot run it and says why, and stays usable.
    await expect(nb.errorBanner).toContainText(GGUF_BROWSER_NOTE);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'gguf-added.png'), fullPage: true });
    await page.locator('[data-testid="model-row"][data-model-id="seed-world"]').getByRole('button', { name: 'Use' }).click();
    await nb.waitForModel();
    // Other tests share this server: leave its models and apps folders as the fixture made them.
    rmSync(join(server.workspace, 'models', 'twin-latest'), { recursive: true, force: true });
    rmSync(join(server.workspace, 'apps'), { recursive: true, force: true });
  });
});
