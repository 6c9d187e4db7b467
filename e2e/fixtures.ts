import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test as base, chromium, expect, type BrowserContext, type ConsoleMessage, type Locator, type Page, type WebError } from '@playwright/test';

export const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env['NTL_CHROMIUM'] ?? '/usr/bin/chromium';

interface Server {
  url: string;
  workspace: string;
  process: ChildProcess;
}

/** Starts `npm run serve`'s server on a free port with a fresh workspace folder. */
async function startServer(): Promise<Server> {
  const workspace = mkdtempSync(join(tmpdir(), 'ntl-e2e-workspace-'));
  // A user model folder that cannot be used: the app must name it and the cause, and stay usable.
  mkdirSync(join(workspace, 'models', 'broken-model'), { recursive: true });
  writeFileSync(join(workspace, 'models', 'broken-model', 'config.json'), '{ "model_type": ');
  // The guided tour opens the first time a workspace is used; the tests start on a blank notebook
  // (e2e/tour.spec.ts removes this to see the tour).
  writeFileSync(join(workspace, '.welcome'), 'e2e\n');
  const child = spawn(process.execPath, [join(ROOT, 'bin/serve.mjs'), '--port', '0'], {
    cwd: ROOT,
    // LM Studio's and Ollama's folders in the workspace, empty unless a spec lays files there: the user's own never leak in.
    env: { ...process.env, NTL_WORKSPACE: workspace, NTL_MODELS_DIR: join(workspace, 'models'), NTL_LMSTUDIO_DIR: join(workspace, 'apps', 'lmstudio'), NTL_OLLAMA_DIR: join(workspace, 'apps', 'ollama') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Next Token Lab: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return { url, workspace, process: child };
}

/**
 * Console errors a test provokes on purpose and asserts in the UI itself; any other console error,
 * and every uncaught page error, fails the test that saw it (issue 19).
 */
const EXPECTED_CONSOLE_ERRORS: readonly RegExp[] = [];

export interface Fixtures {
  page: Page;
  /**
   * The server the page opens: the worker's shared one, or with `test.use({ ownWorkspace: true })`
   * one of the test's own, whose workspace and models folder are removed when the test ends,
   * passed or failed (for tests that add or change models).
   */
  server: Server;
  ownWorkspace: boolean;
  /** An empty temporary folder of the test's own (for a model folder to import), removed when the test ends. */
  scratch: string;
}

interface WorkerFixtures {
  sharedServer: Server;
  chromiumContext: BrowserContext;
}

async function stopServer(server: Server): Promise<void> {
  if (server.process.exitCode === null && server.process.signalCode === null) {
    const exited = new Promise((resolveExit) => server.process.once('exit', resolveExit));
    server.process.kill();
    await exited;
  }
  rmSync(server.workspace, { recursive: true, force: true });
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  sharedServer: [
    async ({}, use) => {
      const server = await startServer();
      await use(server);
      await stopServer(server);
    },
    { scope: 'worker' },
  ],
  ownWorkspace: [false, { option: true }],
  server: async ({ sharedServer, ownWorkspace }, use) => {
    if (!ownWorkspace) {
      await use(sharedServer);
      return;
    }
    const own = await startServer();
    try {
      await use(own);
    } finally {
      await stopServer(own);
    }
  },
  scratch: async ({}, use) => {
    const folder = mkdtempSync(join(tmpdir(), 'ntl-e2e-scratch-'));
    try {
      await use(folder);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
  chromiumContext: [
    async ({}, use) => {
      if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium)`);
      const profile = mkdtempSync(join(tmpdir(), 'ntl-e2e-profile-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
        acceptDownloads: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      await use(context);
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
  page: async ({ chromiumContext, server }, use) => {
    // Every page of the test (the report opened offline too) is watched from its start to its close.
    const problems: string[] = [];
    const onPageError = (error: WebError): void => {
      problems.push(`page error: ${error.error().stack ?? error.error().message}`);
    };
    const onConsole = (message: ConsoleMessage): void => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (EXPECTED_CONSOLE_ERRORS.some((expected) => expected.test(text))) return;
      problems.push(`console error: ${text} (${message.location().url})`);
    };
    chromiumContext.on('weberror', onPageError);
    chromiumContext.on('console', onConsole);
    const before = new Set(chromiumContext.pages());
    const page = await chromiumContext.newPage();
    // Long tasks on the main thread, collected from page start.
    await page.addInitScript({
      content: `window.__longTasks = [];
        new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
          .observe({ type: 'longtask', buffered: true });`,
    });
    await page.goto(server.url);
    await use(page);
    for (const opened of chromiumContext.pages().filter((p) => !before.has(p))) await opened.close();
    chromiumContext.off('weberror', onPageError);
    chromiumContext.off('console', onConsole);
    expect(problems, 'no page error and no console error during the test').toEqual([]);
  },
});

export { expect } from '@playwright/test';

/** Runs the `ntl` command line with --json and returns its parsed output. */
export function ntl(args: string[]): Record<string, unknown> {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/ntl.mjs'), ...args, '--json'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ntl ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/**
 * A chart is drawn once it comes near the window: scrolls its host into view and waits for its
 * canvas (`host` is the element with data-testid="chart-<name>").
 */
export async function expectChartDrawn(host: Locator): Promise<void> {
  await host.scrollIntoViewIfNeeded();
  await expect(host.locator('canvas').first()).toBeVisible();
}

/**
 * Every chart under `scope` (a chart host itself, or an element holding some) drawn with its current
 * option and its animation over (ECharts' `finished` event, shown as data-painted="done"): what a
 * picture waits for instead of a fixed pause. Each is scrolled near the window, where charts draw.
 */
export async function expectChartsPainted(scope: Locator): Promise<void> {
  const own = await scope.getAttribute('data-painted');
  const hosts = own !== null ? [scope] : await scope.locator('[data-painted]').all();
  expect(hosts.length, 'charts to wait for').toBeGreaterThan(0);
  for (const host of hosts) {
    await host.scrollIntoViewIfNeeded();
    await expect(host).toHaveAttribute('data-painted', 'done');
  }
}

/**
 * Resolves once the page's main thread has been idle (two idle callbacks in a row): the tasks that
 * earlier steps queued, such as the charts' warm-up after start, have run.
 */
/** Types `value` into a field and leaves it, as a user does: the field's change event commits it. */
export async function enter(field: Locator, value: string): Promise<void> {
  await field.fill(value);
  await field.blur();
}

export async function waitForIdle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const { requestIdleCallback: idle } = globalThis as unknown as { requestIdleCallback: (callback: () => void) => number };
        idle(() => idle(() => resolve()));
      }),
  );
}

/** A chart panel's CSV export, split into cells (the prompts the specs use hold no comma or quote, so plain splitting reads what toCsv wrote). */
export async function downloadCsv(page: Page, panel: Locator): Promise<string[][]> {
  const download = page.waitForEvent('download');
  await panel.getByTestId('export-csv').click();
  const stream = await (await download).createReadStream();
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text.trimEnd().split('\n').map((line) => line.split(','));
}
