// `node tools/bench/damaged-cache.mjs` (after `npm run build`): start, overwrite every file of the profile's code cache (then of its HTTP cache) with random bytes past their header, start again; each start must load the model and run every cell.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from '@playwright/test';
const root = process.cwd();
const workspace = mkdtempSync(join(tmpdir(), 'probe-ws-'));
writeFileSync(join(workspace, '.welcome'), 'bench\n');
const server = spawn(process.execPath, [join(root, 'bin/serve.mjs'), '--port', '0'], { cwd: root, env: { ...process.env, NTL_WORKSPACE: workspace, NTL_MODELS_DIR: join(workspace, 'models') } });
const url = await new Promise((r) => server.stdout.on('data', (c) => { const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(String(c)); if (m) r(m[1]); }));
const profile = mkdtempSync(join(tmpdir(), 'probe-prof-'));
function files(dir) { let out = []; try { for (const n of readdirSync(dir)) { const p = join(dir, n); const s = statSync(p); if (s.isDirectory()) out = out.concat(files(p)); else out.push([p, s.size]); } } catch {} return out; }
function corrupt(dir) {
  const list = files(dir);
  for (const [p, size] of list) {
    if (size < 64) continue;
    const bytes = readFileSync(p);
    // Keep the first 24 bytes (the entry's header) and scramble the rest: a damaged entry, not a missing one.
    randomBytes(bytes.length - 24).copy(bytes, 24);
    writeFileSync(p, bytes);
  }
  return list.length;
}
async function start(label) {
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 }, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = performance.now();
  await page.goto(url);
  await page.getByTestId('backend').filter({ hasText: /wasm|webgpu|native/ }).waitFor({ timeout: 60_000 });
  const loaded = Math.round(performance.now() - t0);
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 120_000 });
  const top = await page.getByTestId('cell-predict').innerText();
  console.log(label, 'loaded in', loaded, 'ms; predict cell mentions east:', / east/.test(top), 'page errors:', errors.length);
  if (!/ east/.test(top) || errors.length > 0) throw new Error(`${label}: ${errors.join('; ') || 'Predict does not show " east"'}`);
  await ctx.close();
}
await start('first start');
await start('second start (caches kept)');
console.log('code cache files corrupted:', corrupt(join(profile, 'Default', 'Code Cache')));
await start('after corrupting the code cache');
console.log('HTTP cache files corrupted:', corrupt(join(profile, 'Default', 'Cache')));
await start('after corrupting the HTTP cache');
await start('the start after that');
server.kill();
rmSync(workspace, { recursive: true, force: true });
rmSync(profile, { recursive: true, force: true });
