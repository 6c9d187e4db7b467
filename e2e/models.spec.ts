import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

  test('a GPT-2 folder with the real tokenizer runs in the browser: ids, attention and prediction as PyTorch computed them', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const source = join(mkdtempSync(join(tmpdir(), 'ntl-e2e-import-')), 'gpt2-tiny');
    cpSync(join(ROOT, 'tests', 'fixtures', 'models', 'gpt2-tiny'), source, { recursive: true });
    const reference = JSON.parse(readFileSync(join(ROOT, 'tests', 'fixtures', 'gpt2-tiny-reference.json'), 'utf8')) as {
      prompts: { prompt: string; ids: number[]; top: { id: number }[] }[];
    };
    const first = reference.prompts[0];
    await page.getByTestId('models-open').click();
    await page.getByTestId('model-folder-input').setInputFiles(source);
    await expect(page.getByTestId('import-status')).toContainText('Added', { timeout: 60_000 });
    const row = page.locator('[data-testid="model-row"][data-model-id="gpt2-tiny"]');
    await expect(row).toContainText('50,257');
    await expect(row).toContainText('input_ids, attention_mask, position_ids');
    await nb.waitForModel();
    await nb.setPrompt(first?.prompt ?? '');
    await nb.runAllAndWait();
    expect(await nb.tokenIds()).toEqual(first?.ids);
    expect((await nb.topPrediction()).id).toBe(first?.top[0]?.id);
    await expect(page.getByTestId('chart-attention')).toBeVisible();
    await expect(page.getByTestId('attend-summary')).toContainText('Its row sums to 1.0000');
    rmSync(source, { recursive: true, force: true });
    rmSync(join(server.workspace, 'models', 'gpt2-tiny'), { recursive: true, force: true });
  });

  test('a model folder dropped on the Models panel is added', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await page.getByTestId('models-open').click();
    // Playwright cannot drag a real folder from the desktop, so the drop carries a folder entry built
    // in the page (the File and Directory Entries API the app reads) holding seed-world's own files.
    await page.getByTestId('model-drop').evaluate(async (zone) => {
      const paths = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'card.json', 'onnx/model.onnx', 'README.md'];
      const files = await Promise.all(
        paths.map(async (path) => {
          const response = await fetch(path === 'README.md' ? 'index.html' : `models/seed-world/${path}`);
          return { path, file: new File([await response.blob()], path.split('/').pop() ?? path) };
        }),
      );
      type Entry = { name: string; isFile: boolean; isDirectory: boolean; file?: (ok: (f: File) => void) => void; createReader?: () => { readEntries: (ok: (e: Entry[]) => void) => void } };
      const dir = (name: string, prefix: string): Entry => ({
        name,
        isFile: false,
        isDirectory: true,
        createReader: () => {
          let done = false;
          return {
            readEntries: (ok) => {
              if (done) return ok([]);
              done = true;
              const here = files.filter((f) => f.path.startsWith(prefix) && !f.path.slice(prefix.length).includes('/'));
              const subdirs = [...new Set(files.filter((f) => f.path.startsWith(prefix) && f.path.slice(prefix.length).includes('/')).map((f) => f.path.slice(prefix.length).split('/')[0] ?? ''))];
              ok([
                ...here.map((f): Entry => ({ name: f.file.name, isFile: true, isDirectory: false, file: (cb) => cb(f.file) })),
                ...subdirs.map((d) => dir(d, `${prefix}${d}/`)),
              ]);
            },
          };
        },
      });
      const items = [{ webkitGetAsEntry: () => dir('dropped-seed-world', '') }];
      const Drag = (globalThis as unknown as { DragEvent: typeof Event }).DragEvent;
      const event = new Drag('drop', { bubbles: true, cancelable: true });
      // A real DataTransfer also carries `files` (empty for a folder) and `types`, which the window's
      // own drop handler (notebook files) reads as the event bubbles up.
      Object.defineProperty(event, 'dataTransfer', { value: { items: Object.assign(items, { length: 1 }), files: [], types: ['Files'] } });
      zone.dispatchEvent(event);
    });
    await expect(page.getByTestId('import-status')).toContainText('Added', { timeout: 60_000 });
    await expect(page.locator('[data-testid="model-row"][data-model-id="dropped-seed-world"]')).toBeVisible();
    rmSync(join(server.workspace, 'models', 'dropped-seed-world'), { recursive: true, force: true });
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
