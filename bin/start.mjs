#!/usr/bin/env node
// `npm start [-- ARGS]`: builds the app once and opens the desktop window; ARGS go on to Electron
// (`--no-sandbox` is an explicit opt-in, see the README). Where the Electron binary is missing and
// cannot be downloaded (an offline machine), it says so and serves the same app to a local browser.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { displayProblem, downloadProblem, previewCommand, sandboxProblem, startArguments } from './start-checks.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args, options = {}) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', ...options });
const electronVite = join(root, 'node_modules/electron-vite/bin/electron-vite.js');
/** The first download of the Electron binary is about 100 MB: slow connections need minutes. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

function electronInstalled() {
  const pathFile = join(root, 'node_modules/electron/path.txt');
  return existsSync(pathFile) && existsSync(join(root, 'node_modules/electron/dist', readFileSync(pathFile, 'utf8').trim()));
}

function readNumber(file) {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
}

function sandboxFacts() {
  const helper = join(root, 'node_modules/electron/dist/chrome-sandbox');
  let chromeSandbox = null;
  try {
    const info = statSync(helper);
    chromeSandbox = { path: helper, uid: info.uid, mode: info.mode };
  } catch {
    chromeSandbox = null;
  }
  return {
    platform: process.platform,
    uid: typeof process.getuid === 'function' ? process.getuid() : null,
    restrictedUserns: readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === 1 || readNumber('/proc/sys/kernel/unprivileged_userns_clone') === 0,
    chromeSandbox,
  };
}

/** 'ok' when github.com (where the Electron binary comes from) answers; else the failed request's error code. */
async function networkCheck() {
  try {
    await fetch('https://github.com', { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
    return 'ok';
  } catch (cause) {
    const code = cause?.cause?.code ?? cause?.code ?? cause?.name;
    return typeof code === 'string' ? code : String(cause?.message ?? cause);
  }
}

/** The browser build, where the desktop window cannot open; the reason first. */
function serveInstead(reason) {
  console.log(reason);
  console.log('Serving the same notebook to your browser instead; press Ctrl+C to stop.');
  const served = run([join(root, 'bin/serve.mjs'), ...args.appArgs]);
  process.exit(served.status ?? 0);
}

const args = startArguments(process.argv.slice(2));

const built = run([electronVite, 'build']);
if (built.status !== 0) process.exit(built.status ?? 1);

const noDisplay = displayProblem({ platform: process.platform, env: process.env });
if (noDisplay) serveInstead(noDisplay);

let whyNot = 'The Electron binary is not available on this machine.';
if (!electronInstalled()) {
  console.log('Fetching the Electron binary (first start only; up to 10 minutes)…');
  const fetched = run([join(root, 'node_modules/electron/install.js')], { timeout: DOWNLOAD_TIMEOUT_MS, stdio: 'pipe', encoding: 'utf8' });
  if (fetched.status !== 0) {
    whyNot = `The Electron binary could not be downloaded. ${downloadProblem({
      timedOut: fetched.error?.code === 'ETIMEDOUT',
      timeoutMinutes: DOWNLOAD_TIMEOUT_MS / 60_000,
      network: await networkCheck(),
      nodeVersion: process.version,
      output: (fetched.stderr || fetched.stdout || '').trim().split('\n')[0] ?? '',
    })}`;
  }
}
if (electronInstalled()) {
  const problem = args.noSandbox ? null : sandboxProblem(sandboxFacts());
  if (problem) console.log(`Electron will probably refuse to start here:\n${problem}\n`);
  const app = run(previewCommand(electronVite, args));
  if (app.status !== 0 && problem) console.log(`\nElectron stopped (exit status ${app.status ?? app.signal}). If it was the sandbox check:\n${problem}`);
  process.exit(app.status ?? 1);
}
serveInstead(whyNot);
