import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { ROOT } from './fixtures';
import { CELLS } from './pages/notebook-page';

/**
 * Where the `electron` package's binary is, or why there is none. Read from the package's files
 * rather than `require('electron')`, which would try to download a missing binary.
 */
function electronBinary(): { path: string | null; reason: string } {
  const pkg = join(ROOT, 'node_modules/electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return { path: null, reason: `the Electron binary is not installed (no ${pathFile}; it cannot be downloaded on this machine)` };
  const path = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(path) ? { path, reason: '' } : { path: null, reason: `the Electron binary is not installed (${path} is missing)` };
}

const binary = electronBinary();

test.describe('the desktop app', () => {
  test.skip(binary.path === null, binary.reason);

  test('opens the notebook securely and runs all cells', async () => {
    const app = await electron.launch({ executablePath: binary.path ?? undefined, args: [ROOT], cwd: ROOT });
    const window = await app.firstWindow();
    // No Node in the renderer; only the preload's small typed API.
    const exposed = await window.evaluate(() => {
      const g = globalThis as unknown as { require?: unknown; process?: unknown; ntl?: { transport: string } };
      return { require: typeof g.require, process: typeof g.process, transport: g.ntl?.transport };
    });
    expect(exposed).toEqual({ require: 'undefined', process: 'undefined', transport: 'ipc' });
    // Auto runs on the native engine (onnxruntime-node in a utility process), where it loads.
    await expect(window.getByTestId('backend')).toContainText(/native|wasm|webgpu/, { timeout: 60_000 });
    await expect(window.getByTestId('backend')).toContainText('native');
    await window.getByTestId('run-all').click();
    for (const kind of CELLS) await expect(window.getByTestId(`cell-${kind}`)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(window.getByTestId('predict-row').first()).toContainText('east');
    // The same notebook on the page's own WebAssembly engine gives the same top token.
    await window.getByTestId('backend-choice').selectOption('wasm');
    await expect(window.getByTestId('backend')).toContainText('wasm', { timeout: 60_000 });
    await window.getByTestId('run-all').click();
    for (const kind of CELLS) await expect(window.getByTestId(`cell-${kind}`)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(window.getByTestId('predict-row').first()).toContainText('east');
    await app.close();
  });
});
