import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { expect, ROOT, test } from './fixtures';
import { FilesPage } from './pages/files-page';
import { ComparePage } from './pages/compare-page';
import { NotebookPage } from './pages/notebook-page';

function notebook(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    format: 'next-token-lab-notebook',
    version: 2,
    name: 'Fixture',
    prompt: 'The sun rises in the',
    model: { id: 'seed-world', sha256: null },
    backend: null,
    appVersion: '0.1.0',
    savedAt: '2026-11-28T00:00:00.000Z',
    cells: [
      { id: 'tokenize', kind: 'tokenize', params: {} },
      { id: 'predict', kind: 'predict', params: { topK: 5 } },
    ],
    ...fields,
  };
}

/** Width, height and colour type of a PNG, and whether its first pixel is fully transparent. */
function pngFacts(bytes: Buffer): { width: number; height: number; colorType: number; isFirstPixelClear: boolean } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const colorType = bytes[25] ?? -1;
  const idat: Buffer[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.subarray(at + 4, at + 8).toString('ascii');
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  // Row 0: a filter byte, then RGBA; the first pixel's alpha is unchanged by any filter of row 0.
  return { width, height, colorType, isFirstPixelClear: colorType === 6 && raw[4] === 0 };
}

test.describe('notebook files, notes and exports', () => {
  test('an edit is autosaved: after a reload the notebook has it', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await files.name.fill('Moonrise');
    await files.name.press('Enter');
    await nb.setPrompt('The moon rises in the');
    await files.addNote(0, '# Moon notes\nDoes the model know *where* the moon rises?');
    // The comparison's set-up is part of the notebook: a third column, column B's seed, 5 tokens.
    const compare = new ComparePage(page);
    await compare.cell.getByTestId('compare-add-column').click();
    await compare.setField(1, 'compare-seed', '7');
    await compare.setMaxTokens(5);
    await files.waitSaved();
    const file = (await files.status.textContent())?.replace(/^.*Saved · /, '').trim() ?? '';
    expect(file).toMatch(/^Moonrise( \d+)?\.ntl\.json$/);
    const onDisk = JSON.parse(readFileSync(join(server.workspace, file), 'utf8')) as { prompt: string; cells: { kind: string; text?: string }[] };
    expect(onDisk.prompt).toBe('The moon rises in the');
    expect(onDisk.cells[0]).toMatchObject({ kind: 'note', text: '# Moon notes\nDoes the model know *where* the moon rises?' });
    expect(onDisk).toMatchObject({ compare: { maxTokens: 5, columns: [{ name: 'A', seed: 42 }, { name: 'B', seed: 7, strategy: { strategy: 'top-k', topK: 5 } }, { name: 'C' }] } });

    await page.reload();
    await nb.waitForModel();
    await expect(nb.prompt).toHaveValue('The moon rises in the');
    await expect(files.name).toHaveValue('Moonrise');
    await expect(page.getByTestId('note-rendered').locator('h1')).toHaveText('Moon notes');
    await expect(page.getByTestId('note-rendered').locator('em')).toHaveText('where');
    await expect(compare.columns).toHaveCount(3);
    await expect(compare.column(1).getByTestId('compare-seed')).toHaveValue('7');
    await expect(compare.cell.getByTestId('compare-max-tokens')).toHaveValue('5');
    await expect(page).toHaveTitle('Moonrise — Next Token Lab');
    await nb.setPrompt('The moon sets in the');
    await expect(page).toHaveTitle('• Moonrise — Next Token Lab');
    await files.waitSaved();
  });

  test('notes render Markdown and nothing that could run', async ({ page }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await files.addNote(1, '**bold** <img src=x onerror="window.__pwned=1"> [click](javascript:window.__pwned=2) <script>window.__pwned=3</script>');
    const rendered = page.getByTestId('note-rendered');
    await expect(rendered.locator('strong')).toHaveText('bold');
    await expect(rendered.locator('img, script')).toHaveCount(0);
    await expect(rendered.locator('a[href^="javascript"]')).toHaveCount(0);
    await expect(rendered).toContainText('<img src=x');
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // The note sits after the tokenize cell, and moves.
    const order = async (): Promise<string[]> => page.locator('main [data-kind]').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind') ?? ''));
    expect((await order()).slice(0, 3)).toEqual(['tokenize', 'note', 'embed']);
    await page.getByTestId('note-up').click();
    expect((await order()).slice(0, 2)).toEqual(['note', 'tokenize']);
    await page.getByTestId('note-remove').click();
    await expect(page.getByTestId('cell-note')).toHaveCount(0);
    await files.waitSaved();
  });

  test('a damaged file is listed with the reason, kept as it is, and its backup opens', async ({ page, server }) => {
    const damaged = '{"format": "next-token-lab-notebook", "version": 2, "name": "Broken';
    writeFileSync(join(server.workspace, 'Broken.ntl.json'), damaged);
    mkdirSync(join(server.workspace, '.backups'), { recursive: true });
    writeFileSync(join(server.workspace, '.backups', 'Broken.ntl.json'), JSON.stringify(notebook({ name: 'Broken', prompt: 'Money goes to the' })));
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await files.openSidebar();
    const entry = files.entry('Broken.ntl.json');
    await expect(entry).toHaveAttribute('data-damaged', 'true');
    await expect(entry.getByTestId('entry-damaged')).toContainText('Broken.ntl.json: damaged, not valid JSON');
    await entry.getByTestId('open-backup').click();
    await expect(nb.prompt).toHaveValue('Money goes to the');
    await expect(files.name).toHaveValue('Broken (backup)');
    await files.waitSaved();
    expect(readFileSync(join(server.workspace, 'Broken.ntl.json'), 'utf8')).toBe(damaged);
    await expect(files.entry('Broken _backup_.ntl.json')).toContainText('Broken (backup)');
  });

  test('unsaved changes are offered back after the page dies before saving', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    await page.evaluate("localStorage.setItem('ntl.autosaveMs', '600000')");
    await page.reload();
    await nb.waitForModel();
    await nb.setPrompt('The stars rise in the');
    const drafts = (): string[] => (existsSync(join(server.workspace, '.autosave')) ? readdirSync(join(server.workspace, '.autosave')) : []);
    await expect.poll(drafts).toContain('Untitled.ntl.json');
    await page.evaluate("localStorage.removeItem('ntl.autosaveMs')");
    await page.goto(server.url);
    await nb.waitForModel();
    await expect(nb.prompt).toHaveValue('The sun rises in the');
    // The suite's tests share one workspace: another test's leftover draft may be offered too.
    const banner = page.getByTestId('draft-banner').filter({ hasText: '(Untitled.ntl.json,' });
    await expect(banner).toContainText('Unsaved changes to “Untitled”');
    await banner.getByTestId('draft-restore').click();
    await expect(nb.prompt).toHaveValue('The stars rise in the');
    await new FilesPage(page).waitSaved();
    expect(drafts()).not.toContain('Untitled.ntl.json');
  });

  test('a notebook whose model is missing says so and offers the model with its hash', async ({ page, server }) => {
    const sha256 = createHash('sha256').update(readFileSync(join(ROOT, 'resources/models/seed-world/onnx/model.onnx'))).digest('hex');
    writeFileSync(join(server.workspace, 'Moved model.ntl.json'), JSON.stringify(notebook({ name: 'Moved model', model: { id: 'seed-world-v0', sha256 } })));
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await files.openSidebar();
    await files.entry('Moved model.ntl.json').getByTestId('entry-open').click();
    const notice = page.getByTestId('model-notice');
    await expect(notice).toContainText('model "seed-world-v0", which is not installed');
    await expect(notice.getByTestId('model-match')).toHaveText('Use seed-world');
  });

  test('the sidebar searches, sorts, renames, duplicates and deletes to the trash', async ({ page, server }) => {
    for (const [name, prompt] of [['Alpha', 'Quartz goes to the'], ['Beta', 'The sun rises in the']]) {
      writeFileSync(join(server.workspace, `${name}.ntl.json`), JSON.stringify(notebook({ name, prompt })));
    }
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await files.openSidebar();
    // The browser build names the folder it was started with and offers no folder dialog.
    await expect(page.getByTestId('workspace-dir')).toHaveText(server.workspace);
    await expect(page.getByTestId('workspace-open')).toHaveCount(0);
    await page.getByTestId('sidebar-search').fill('quartz');
    await expect(page.getByTestId('notebook-entry')).toHaveCount(1);
    await expect(page.getByTestId('notebook-entry')).toContainText('Alpha');
    await page.getByTestId('sidebar-search').fill('');
    await page.getByTestId('sidebar-sort').selectOption('name');
    const names = await page.locator('[data-testid="notebook-entry"] .entry-name').allTextContents();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' })));

    await files.entry('Alpha.ntl.json').getByTestId('entry-rename').click();
    await page.getByTestId('rename-input').fill('Gamma / one');
    await page.getByTestId('rename-ok').click();
    await expect(files.entry('Gamma _ one.ntl.json')).toContainText('Gamma / one');
    await files.entry('Gamma _ one.ntl.json').getByTestId('entry-duplicate').click();
    await expect(files.entry('Gamma _ one copy.ntl.json')).toBeVisible();
    await files.entry('Gamma _ one copy.ntl.json').getByTestId('entry-delete').click();
    await files.entry('Gamma _ one copy.ntl.json').getByTestId('entry-delete-confirm').click();
    await expect(files.entry('Gamma _ one copy.ntl.json')).toHaveCount(0);
    expect(readdirSync(join(server.workspace, '.trash')).some((f) => f.endsWith('Gamma _ one copy.ntl.json'))).toBe(true);
    await files.entry('Beta.ntl.json').getByTestId('entry-open').click();
    await expect(nb.prompt).toHaveValue('The sun rises in the');
    await expect(files.name).toHaveValue('Beta');
  });

  test('dropping a .ntl.json file opens it and saves it into the workspace', async ({ page }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    const text = JSON.stringify(notebook({ name: 'Dropped', prompt: 'Water flows down the', cells: [{ id: 'n', kind: 'note', text: 'From *outside*' }, { id: 'x', kind: 'probe-3d', depth: 2 }] }));
    // Built in the page (DataTransfer and File are the page's own objects).
    const dataTransfer = await page.evaluateHandle(
      `(() => { const t = new DataTransfer(); t.items.add(new File([${JSON.stringify(text)}], 'dropped.ntl.json', { type: 'application/json' })); return t; })()`,
    );
    await page.dispatchEvent('main', 'drop', { dataTransfer });
    await expect(nb.prompt).toHaveValue('Water flows down the');
    await expect(page.getByTestId('note-rendered').locator('em')).toHaveText('outside');
    await expect(page.getByTestId('cell-unknown')).toContainText('Unknown cell: probe-3d');
    await expect(page.getByTestId('cell-embed')).toHaveCount(0);
    await files.waitSaved();
    await expect(files.status).toContainText('Dropped');
  });

  test('exports: the report as one offline HTML file, charts as PNG (transparent), SVG with caption, CSV and JSON', async ({ page, chromiumContext }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await files.addNote(0, '## Report note\nThe sun *rises*.');
    await nb.runAllAndWait();

    const panel = page.getByTestId('chart-attention').locator('..');
    const box = await page.getByTestId('chart-attention').boundingBox();
    await panel.getByTestId('export-transparent').check();
    const png = pngFacts((await files.download(panel.getByTestId('export-png'))).bytes);
    expect(png.width).toBe(2 * Math.round(box?.width ?? 0));
    expect(png.isFirstPixelClear).toBe(true);
    await panel.getByTestId('export-transparent').uncheck();
    expect(pngFacts((await files.download(panel.getByTestId('export-png'))).bytes).isFirstPixelClear).toBe(false);
    const svg = (await files.download(panel.getByTestId('export-svg'))).bytes.toString();
    expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('seed-world · &quot;The sun rises in the&quot;');
    expect(svg).toContain('query');
    const csv = (await files.download(panel.getByTestId('export-csv'))).bytes.toString().trim().split('\n');
    const json = JSON.parse((await files.download(panel.getByTestId('export-json'))).bytes.toString()) as { caption: string; rows: Record<string, unknown>[] };
    expect(json.rows).toHaveLength(csv.length - 1);
    expect(typeof Object.values(json.rows[0] ?? {}).at(-1)).toBe('number');

    await page.getByTestId('notebook-export').click();
    const report = await files.download(page.getByTestId('export-report'));
    expect(report.name).toMatch(/-report\.html$/);
    const html = report.bytes.toString();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toContain('<script');
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('<h2>Report note</h2>');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('Model card');
    expect(html).toContain('&quot;format&quot;: &quot;next-token-lab-notebook&quot;');
    // It opens offline, from a file, with every chart drawn.
    const path = join(tmpdir(), `ntl-report-${Date.now()}.html`);
    writeFileSync(path, html);
    const offline = await chromiumContext.newPage();
    const requests: string[] = [];
    offline.on('request', (r) => requests.push(r.url()));
    await offline.goto(`file://${path}`);
    await expect(offline.locator('figure svg').first()).toBeVisible();
    expect(await offline.locator('figure').count()).toBeGreaterThanOrEqual(6);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    await offline.close();

    await page.getByTestId('notebook-export').click();
    const saved = await files.download(page.getByTestId('export-notebook'));
    // Named as the notebook is: a second Untitled in the suite's shared workspace is "Untitled 2".
    expect(saved.name).toMatch(/^Untitled( \d+)?\.ntl\.json$/);
    expect(JSON.parse(saved.bytes.toString())).toMatchObject({ version: 3, backend: 'wasm', results: { predict: { data: { summary: expect.stringContaining('top-1') } } } });
  });

  test('with the sidebar open the notebook fits beside it: nothing runs off the window', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await nb.runAllAndWait();
    if ((await page.locator('.workspace.with-sidebar').count()) === 0) await page.getByTestId('sidebar-toggle').click();
    await expect(page.locator('.workspace.with-sidebar')).toHaveCount(1);
    const overflow = (): Promise<number> =>
      page.evaluate(() => {
        const w = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
        return w.document.documentElement.scrollWidth - w.innerWidth;
      });
    await expect.poll(overflow).toBeLessThanOrEqual(0);
    await page.getByTestId('sidebar-toggle').click();
  });
});
