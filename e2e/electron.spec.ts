import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { _electron as electron, expect, test } from '@playwright/test';
import { ROOT } from './fixtures';
import { CELLS } from './pages/notebook-page';

/** Where the `electron` package says its binary is, or why there is none. */
function electronBinary(): { path: string | null; reason: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path, reason: '' };
    return { path: null, reason: `the Electron binary is not installed (${String(path)} does not exist; its download is not possible on this machine)` };
  } catch (cause) {
    return { path: null, reason: `the Electron binary is not installed (${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)})` };
  }
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
    await expect(window.getByTestId('backend')).toContainText(/wasm|webgpu/, { timeout: 60_000 });
    await window.getByTestId('run-all').click();
    for (const kind of CELLS) await expect(window.getByTestId(`cell-${kind}`)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await app.close();
  });
});
