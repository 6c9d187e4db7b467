#!/usr/bin/env node
// Takes the README's screenshots: starts the browser build, runs all cells in Debian's Chromium and
// saves docs/screenshots/*.png. Run `npm run build` first.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspace = mkdtempSync(join(tmpdir(), 'ntl-shots-'));
const server = spawn(process.execPath, [join(root, 'bin/serve.mjs'), '--port', '0'], {
  cwd: root,
  env: { ...process.env, NTL_WORKSPACE: workspace, NTL_MODELS_DIR: join(workspace, 'models') },
});
const url = await new Promise((resolve) => {
  server.stdout.on('data', (chunk) => {
    const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(String(chunk));
    if (match) resolve(match[1]);
  });
});
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ntl-shots-profile-')), {
  executablePath: process.env.NTL_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
  args: ['--no-sandbox', '--disable-gpu'],
});
/** Charts are drawn as they come near the window: scroll through the page so that every one is. */
async function drawAll(page) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  for (let y = 0; y < height; y += 600) {
    await page.evaluate((top) => window.scrollTo(0, top), y);
    await page.waitForTimeout(150);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(1000);
}

try {
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('backend').filter({ hasText: /wasm|webgpu/ }).waitFor({ timeout: 60_000 });
  const out = join(root, 'docs/screenshots');
  // A fresh workspace: the guided tour opens. Its notes fill in from the run.
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(out, 'tour.png') });
  await page.locator('[data-testid=cell-note]').nth(3).screenshot({ path: join(out, 'tour-attention-note.png') });
  // Pictures of single cells: the top bar scrolls away instead of covering them.
  await page.addStyleTag({ content: '.topbar { position: static !important; }' });
  // A blank notebook on the default prompt for the cells.
  await page.getByTestId('notebook-new').click();
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 60_000 });
  await page.getByTestId('attend-query').selectOption('2');
  await drawAll(page);
  await page.screenshot({ path: join(out, 'notebook.png') });
  for (const cell of ['embed', 'attend', 'predict', 'sample']) {
    await page.getByTestId(`cell-${cell}`).screenshot({ path: join(out, `${cell}.png`) });
  }
  await page.getByTestId('attend-value-sum').screenshot({ path: join(out, 'weighted-sum.png') });
  // Interventions: every head of layer 1 switched off, on the bank sentence.
  await page.getByTestId('prompt-input').fill('She took her money to the bank. At the bank she');
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 60_000 });
  await page.getByTestId('intervene').locator('summary').click();
  await page.locator('[data-testid=intervene-layer][data-layer="1"]').click();
  await page.getByTestId('intervene-run').click();
  await page.getByTestId('intervene-summary').waitFor();
  await page.getByTestId('predict-writes-toggle').check();
  await drawAll(page);
  await page.getByTestId('intervene').screenshot({ path: join(out, 'intervene.png') });
  await page.getByTestId('chart-residual-writes').screenshot({ path: join(out, 'residual-writes.png') });
  // One word in two contexts.
  await page.getByTestId('context-run').click();
  await page.locator('[data-testid=cell-context][data-status=done]').waitFor({ timeout: 60_000 });
  await drawAll(page);
  await page.getByTestId('cell-context').screenshot({ path: join(out, 'context.png') });
  // The model list, and the second bundled model writing verse at temperature 0.8.
  await page.getByTestId('models-open').click();
  await page.waitForTimeout(300);
  await page.getByTestId('models-panel').screenshot({ path: join(out, 'models.png') });
  await page.getByTestId('models-close').click();
  await page.getByTestId('model-select').selectOption('tiny-shakespeare');
  await page.getByTestId('backend').filter({ hasText: /wasm|webgpu/ }).waitFor({ timeout: 60_000 });
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 60_000 });
  await page.getByTestId('sample-strategy').selectOption('temperature');
  await page.getByTestId('sample-temperature').fill('0.8');
  await page.getByTestId('sample-temperature').dispatchEvent('change');
  await page.getByTestId('sample-max-tokens').fill('60');
  await page.getByTestId('sample-max-tokens').dispatchEvent('change');
  await page.getByTestId('sample-generate').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 120_000 });
  await page.waitForTimeout(1000);
  await page.getByTestId('sample-output').first().screenshot({ path: join(out, 'shakespeare.png') });
  console.log(`screenshots in ${out}`);
} finally {
  await context.close();
  server.kill();
}
