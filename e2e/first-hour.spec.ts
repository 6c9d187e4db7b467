import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadCsv, expect, expectChartDrawn, test } from './fixtures';
import { FilesPage } from './pages/files-page';
import { NotebookPage } from './pages/notebook-page';

function notebook(name: string, prompt: string, savedAt: string): string {
  return JSON.stringify({
    format: 'next-token-lab-notebook',
    version: 3,
    name,
    prompt,
    model: { id: 'seed-world', sha256: null },
    backend: null,
    appVersion: '0.1.0',
    savedAt,
    cells: [{ id: 'tokenize', kind: 'tokenize', params: {} }],
  });
}

/** The notebook files in the workspace (not drafts, backups or the trash). */
function notebookFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ntl.json'))
    .sort();
}

test.describe("a new user's first hour (issue 19)", () => {
  // Each test counts files and drafts in its workspace: one of its own, so no other test's autosave or draft is counted.
  test.use({ ownWorkspace: true });

  test('opening the app writes no file; each New notebook gets a name of its own once it is worth keeping', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    const before = notebookFiles(server.workspace);
    await nb.waitForModel();
    // A run alone is cheap to do again: nothing to keep yet.
    await nb.runAllAndWait();
    await expect(files.status).toHaveAttribute('data-dirty', 'false');
    await expect(files.status).toHaveText('Not saved yet');
    expect(notebookFiles(server.workspace)).toEqual(before);

    // Three notebooks, each changed: three files, three names in the sidebar and in Recent.
    const made: string[] = [];
    for (const prompt of ['The moon rises in the', 'The stars rise in the', 'The sun sets in the']) {
      await page.getByTestId('notebook-new').click();
      await expect(files.status).toHaveText('Not saved yet');
      await nb.setPrompt(prompt);
      await files.waitSaved();
      made.push((await files.name.inputValue()).trim());
    }
    const added = notebookFiles(server.workspace).filter((f) => !before.includes(f));
    expect(added).toHaveLength(3);
    expect(new Set(made).size).toBe(3);
    for (const name of made) expect(added).toContain(`${name}.ntl.json`);
    await files.openSidebar();
    for (const file of added) await expect(files.entry(file).locator('.entry-name')).toHaveText(file.replace(/\.ntl\.json$/, ''));
    const recent = await page.getByTestId('recent-entry').allTextContents();
    expect(new Set(recent).size).toBe(recent.length);
    await expect(page).toHaveTitle(`${made[2]} — Next Token Lab`);
  });

  test('drafts are offered in one closable banner, and not for a notebook saved after its draft', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    const drafts = join(server.workspace, '.autosave');
    mkdirSync(drafts, { recursive: true });
    // Kept just before the save that replaced it: the file already holds it.
    writeFileSync(join(drafts, 'Saved after.ntl.json'), notebook('Saved after', 'old', '2026-01-01T00:00:00.000Z'));
    writeFileSync(join(server.workspace, 'Saved after.ntl.json'), notebook('Saved after', 'newer', '2026-01-01T00:00:01.000Z'));
    const now = new Date(Date.now() + 60_000).toISOString();
    for (const name of ['Lost one', 'Lost two', 'Lost three']) writeFileSync(join(drafts, `${name}.ntl.json`), notebook(name, `${name} prompt`, now));
    try {
      await page.reload();
      await nb.waitForModel();
      const area = page.getByTestId('drafts');
      await expect(area).toHaveCount(1);
      await expect(area).toContainText('Unsaved changes to 3 notebooks were kept');
      for (const name of ['Lost one', 'Lost two', 'Lost three']) await expect(area.getByTestId('draft-banner').filter({ hasText: `(${name}.ntl.json,` })).toHaveCount(1);
      await expect(area).not.toContainText('Saved after');
      await area.getByTestId('draft-banner').filter({ hasText: '(Lost two.ntl.json,' }).getByTestId('draft-discard').click();
      await expect(area.getByTestId('draft-banner')).toHaveCount(2);
      await area.getByTestId('drafts-close').click();
      await expect(page.getByTestId('drafts')).toHaveCount(0);
      // Closing keeps them on disk for the next start.
      expect(readdirSync(drafts).filter((f) => f.startsWith('Lost')).sort()).toEqual(['Lost one.ntl.json', 'Lost three.ntl.json']);
    } finally {
      for (const f of ['Saved after.ntl.json', 'Lost one.ntl.json', 'Lost two.ntl.json', 'Lost three.ntl.json']) rmSync(join(drafts, f), { force: true });
      rmSync(join(server.workspace, 'Saved after.ntl.json'), { force: true });
    }
  });

  test('the report holds every cell the notebook shows, Compare and Context too, with parameters in the words of the controls', async ({ page }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await nb.runAllAndWait();
    const compare = page.getByTestId('cell-compare');
    await compare.getByTestId('compare-max-tokens').fill('3');
    await compare.getByTestId('compare-max-tokens').press('Enter');
    await compare.getByTestId('compare-run').click();
    await expect(compare).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await compare.getByTestId('compare-step-token').first().click();
    const context = page.getByTestId('cell-context');
    await context.getByTestId('context-run').click();
    await expect(context).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    const generated = (await compare.getByTestId('compare-output').first().textContent()) ?? '';

    await page.getByTestId('notebook-export').click();
    const html = (await files.download(page.getByTestId('export-report'))).bytes.toString();
    const section = (kind: string): string => (html.split(`<section class="cell" data-kind="${kind}">`)[1] ?? '').split('</section>')[0] ?? '';
    for (const kind of ['tokenize', 'embed', 'attend', 'predict', 'sample', 'compare', 'context']) expect(html).toContain(`<section class="cell" data-kind="${kind}">`);
    expect(section('compare')).toContain('<tr><th>Tokens</th><td>3</td></tr>');
    expect(section('compare')).toContain('<tr><th>Column A</th><td>greedy (always the most likely token); seed 42</td></tr>');
    expect(section('compare')).toContain(generated.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;'));
    expect(section('compare')).toContain('data-chart="compare-distribution"');
    expect(section('context')).toContain('<tr><th>Prompt A</th>');
    expect(section('context')).toContain('data-chart="context-similarity"');
    expect(section('attend')).toMatch(/<tr><th>Query token<\/th><td>the last token \(\d+: [^<]+\)<\/td><\/tr>/);
    expect(section('sample')).toContain('<tr><th>Strategy</th><td>greedy (always the most likely token)</td></tr>');
    // Charts sit under their own cell: the attention heatmap in Attend, not in Context.
    expect(section('attend')).toContain('data-chart="attention"');
    expect(section('context')).not.toContain('data-chart="attention"');
    const tables = (html.match(/<table class="params">[\s\S]*?<\/table>/g) ?? []).join('\n');
    expect(tables).toContain('Query token');
    for (const internal of ['knobs', 'sampling', '{&quot;strategy', 'topK', '>query<', '>-1<']) expect(tables).not.toContain(internal);
  });

  test('"How each sampler works" reads as a document, and note tables have borders', async ({ page }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    const doc = page.getByTestId('sampling-doc');
    await doc.locator('summary').click();
    await expect(doc.locator('h2').filter({ hasText: 'The sampler chain' })).toBeVisible();
    await expect(doc.locator('h3').filter({ hasText: 'The default order' })).toHaveCount(1);
    await expect(doc.locator('strong').filter({ hasText: 'Every filter keeps at least one token' })).toHaveCount(1);
    const text = (await doc.textContent()) ?? '';
    expect(text).not.toMatch(/(^|\n)#+ |\*\*|src\/engine|\.ts\b|<!--/);
    expect(text).toContain('seeded generator (mulberry32)');
    await doc.locator('summary').scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/ux-shots/sampling-doc.png' });

    await files.addNote(0, '| token | probability |\n| --- | --- |\n| ␣east | 99.96% |');
    const cell = page.getByTestId('note-rendered').locator('td').first();
    await expect(cell).toHaveText('␣east');
    await expect(cell).toHaveCSS('border-top-style', 'solid');
  });

  test('keyboard and layout: Shift+Enter in the prompt runs every cell, Run buttons are named, the top bar is one row at 1920 px', async ({ page }) => {
    const nb = new NotebookPage(page);
    await page.setViewportSize({ width: 1920, height: 1000 });
    await nb.waitForModel();
    await nb.prompt.fill('The moon rises in the');
    await nb.prompt.press('Shift+Enter');
    for (const kind of ['tokenize', 'embed', 'attend', 'predict', 'sample'] as const) await expect(nb.cell(kind)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(nb.prompt).toHaveValue('The moon rises in the');
    for (const name of ['Run Tokenize', 'Run Embed', 'Run Attend', 'Run Predict', 'Run Sample', 'Run Context: both prompts']) await expect(page.getByRole('button', { name, exact: true })).toHaveCount(1);
    await expect(page.getByRole('button', { name: /^Run Compare: \d+ tokens in each column$/ })).toHaveCount(1);
    await expect(page.getByTestId('run-all-scope')).toContainText('Compare and Context run with their own buttons');
    // Saved under a long name, with every badge shown: still one row.
    const files = new FilesPage(page);
    await files.name.fill('A notebook with a rather long name');
    await files.name.press('Enter');
    await files.waitSaved();
    // One row: every item starts above the point where the first one ends.
    const rows = await page.locator('.topbar > *').evaluateAll((els) => {
      const boxes = els.map((e) => e.getBoundingClientRect());
      const firstBottom = Math.min(...boxes.map((b) => b.bottom));
      return boxes.every((b) => b.top < firstBottom) ? 1 : 2;
    });
    await page.screenshot({ path: '/tmp/ux-shots/top-1920.png', clip: { x: 0, y: 0, width: 1920, height: 160 } });
    expect(rows).toBe(1);
  });

  test('file problems name the file, the field and what was expected', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    const folder = join(server.workspace, 'models', 'no-vocab');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_layer: 1, n_head: 1, n_embd: 8, n_positions: 8 }));
    try {
      await page.reload();
      await nb.waitForModel();
      await expect(nb.errorBanner).toContainText('config.json: field "vocab_size": is missing: expected a number');
      await expect(nb.errorBanner).not.toContainText('Invalid input');
      await page.getByTestId('notebook-import-input').setInputFiles({ name: 'comparison.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ format: 'next-token-lab-comparison', version: 1, columns: [] })) });
      await expect(nb.errorBanner).toContainText('Could not import comparison.json: field "format": this is a comparison exported from the Compare cell');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('token labels: an emoji split into bytes is shown as the emoji, counted as one character; repeated tokens name their position', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const prompt = 'The 🌞 rises in the east and the sun';
    await nb.setPrompt(prompt);
    await nb.runAllAndWait();
    const rows = await downloadCsv(page, page.getByTestId('chart-tokens').locator('..'));
    expect(rows[0]).toEqual(['position', 'id', 'text', 'label', 'characters']);
    const labels = rows.slice(1).map((r) => r[3]);
    expect(labels).toEqual(['The', '␣', '🌞 byte 1 of 4', '🌞 byte 2 of 4', '🌞 byte 3 of 4', '🌞 byte 4 of 4', '␣rises', '␣in', '␣the (8)', '␣east', '␣and', '␣the (11)', '␣sun']);
    const characters = rows.slice(1).reduce((sum, r) => sum + Number(r[4]), 0);
    // 🌞 is one character (two UTF-16 code units): the bars add up to the prompt's characters.
    expect(characters).toBe([...prompt].length);
    await expect(page.getByTestId('attend-query').locator('option').nth(8)).toHaveText('8: ␣the (8)');
    await page.getByTestId('chart-tokens').scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/ux-shots/token-labels.png' });
  });

  test('each chart is a figure named by its title and key figure, with its exports behind one tab stop', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await nb.runAllAndWait();
    await expect(page.getByRole('figure', { name: 'Characters per token: 5 bars; the largest, ␣rises, is 6' })).toHaveCount(1);
    await expect(page.getByRole('img', { name: /^Characters per token: 5 bars/ })).toHaveCount(1);
    await expect(page.getByRole('figure', { name: /^PNG SVG/ })).toHaveCount(0);
    const toolbar = page.getByTestId('chart-tokens').locator('..').getByTestId('exports-toolbar');
    await expect(toolbar).toHaveAttribute('role', 'toolbar');
    await toolbar.getByTestId('export-png').focus();
    await page.keyboard.press('ArrowRight');
    await expect(toolbar.getByTestId('export-svg')).toBeFocused();
    await page.keyboard.press('Tab');
    // One Tab leaves the chart's exports.
    expect(await toolbar.evaluate((el) => el.contains(el.ownerDocument.activeElement))).toBe(false);
    const stops = await toolbar.locator('[tabindex="0"]').count();
    expect(stops).toBe(1);
  });

  test('after a reload a notebook on a small model runs again by itself; its saved summary reads as the cells do', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    await nb.waitForModel();
    await files.name.fill('Reloaded');
    await files.name.press('Enter');
    await nb.setPrompt('The sun rises in the');
    await nb.runAllAndWait();
    await page.keyboard.press('Control+s');
    await files.waitSaved();
    const file = (await files.status.textContent())?.replace(/^.*Saved · /, '').trim() ?? '';
    const saved = JSON.parse(readFileSync(join(server.workspace, file), 'utf8')) as { results: Record<string, { data: { summary: string } }> };
    expect(saved.results['predict']?.data.summary).toMatch(/^top-1 “␣east” at 99\.9\d%$/);

    await page.reload();
    await nb.waitForModel();
    for (const kind of ['tokenize', 'embed', 'attend', 'predict', 'sample'] as const) await expect(nb.cell(kind)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(page.getByTestId('predict-row').first()).toContainText('east');
    await expectChartDrawn(page.getByTestId('chart-attention'));
    await expect(files.status).toHaveAttribute('data-dirty', 'false');
  });
});
