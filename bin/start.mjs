#!/usr/bin/env node
// `npm start`: builds the app and opens the desktop window. Where the Electron binary is missing and
// cannot be downloaded (an offline machine), it says so and serves the same app to a local browser.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args, options = {}) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', ...options });
const electronVite = join(root, 'node_modules/electron-vite/bin/electron-vite.js');

function electronInstalled() {
  const pathFile = join(root, 'node_modules/electron/path.txt');
  return existsSync(pathFile) && existsSync(join(root, 'node_modules/electron/dist', readFileSync(pathFile, 'utf8').trim()));
}

const built = run([electronVite, 'build']);
if (built.status !== 0) process.exit(built.status ?? 1);

if (!electronInstalled()) {
  console.log('Fetching the Electron binary (first start only)…');
  const fetched = run([join(root, 'node_modules/electron/install.js')], { timeout: 120_000, stdio: 'pipe', encoding: 'utf8' });
  if (fetched.status !== 0) console.log(`  failed: ${(fetched.stderr || fetched.stdout || '').trim().split('\n')[0]}`);
}
if (electronInstalled()) {
  const app = run([electronVite, 'preview']);
  process.exit(app.status ?? 0);
}
console.log('The Electron binary is not available on this machine (its download failed).');
console.log('Serving the same notebook to your browser instead; press Ctrl+C to stop.');
run([join(root, 'bin/serve.mjs'), ...process.argv.slice(2)]);
