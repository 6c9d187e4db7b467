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
try {
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('backend').filter({ hasText: /wasm|webgpu/ }).waitFor({ timeout: 60_000 });
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 60_000 });
  await page.getByTestId('attend-query').selectOption('2');
  await page.waitForTimeout(1500);
  const out = join(root, 'docs/screenshots');
  await page.screenshot({ path: join(out, 'notebook.png'), fullPage: true });
  for (const cell of ['attend', 'predict', 'sample']) {
    await page.getByTestId(`cell-${cell}`).screenshot({ path: join(out, `${cell}.png`) });
  }
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
