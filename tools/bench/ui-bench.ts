/**
 * `npm run bench -- ui`: the app as a user meets it, in Debian's Chromium on the browser build (the
 * desktop app's renderer): cold start to the first chart, run-all after load, long tasks on the
 * window's thread during run-all and generation, and the browser's memory over 20 model switches.
 * Needs `npm run build` (or `npm run serve` once) so that out/renderer exists. `BENCH_UI=start`
 * measures the two starts only (cold, then later on the same profile): each start's rows, nothing after.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { median } from './engine-bench';
import { mainThreadCpu } from './main-thread-cpu';

export interface UiResult {
  name: string;
  value: number;
  unit: string;
  note: string;
}


/** Resident memory of every process of this Chromium (found by its profile folder), in MB. */
function browserRssMb(profile: string): number {
  const ps = spawnSync('ps', ['-eo', 'rss=,args='], { encoding: 'utf8' });
  let kb = 0;
  for (const line of ps.stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (match?.[2]?.includes(profile) || (match?.[2]?.includes('chromium') && match[2].includes('--type=') && match[2].includes(profile))) kb += Number(match[1]);
  }
  return kb / 1024;
}

/**
 * Recorded in the page from its navigation on: long tasks, and when Run all was first enabled, first
 * clicked and the first chart appeared (the page's own clock, without the driver's round trips).
 */
const PAGE_PROBES = `window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: true });
  window.__starts = {};
  document.addEventListener('click', (event) => {
    if (event.target instanceof Element && event.target.closest('[data-testid=run-all]')) window.__starts.clicked ??= performance.now();
  }, true);
  new MutationObserver(() => {
    const run = document.querySelector('[data-testid=run-all]');
    if (run && !run.disabled) window.__starts.enabled ??= performance.now();
    if (document.querySelector('[data-testid=cell-tokenize] canvas')) window.__starts.chart ??= performance.now();
  }).observe(document, { subtree: true, childList: true, attributes: true });`;

interface StartTimes {
  /** From the driver's navigation to the model loaded and to Run all's first chart (ms). */
  loaded: number;
  firstChart: number;
  /** The same in the page's own clock, from its navigation start: Run all enabled, clicked, and the first chart. */
  pageEnabled: number;
  pageClicked: number;
  pageChart: number;
  /** Long tasks on the window's thread until the model was loaded. */
  startTasks: number[];
}

/** Starts the page, clicks Run all once the model is loaded, and returns once Run all is over. */
async function startToFirstChart(page: Page, url: string): Promise<StartTimes> {
  const started = performance.now();
  await page.goto(url);
  await page.getByTestId('backend').filter({ hasText: /wasm|webgpu|native/ }).waitFor({ timeout: 60_000 });
  const loaded = performance.now() - started;
  const startTasks = await longTasks(page);
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-tokenize] canvas').first().waitFor({ timeout: 60_000 });
  const firstChart = performance.now() - started;
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 120_000 });
  const marks = await page.evaluate(() => (globalThis as unknown as { __starts: { enabled: number; clicked: number; chart: number } }).__starts);
  return { loaded, firstChart, pageEnabled: marks.enabled, pageClicked: marks.clicked, pageChart: marks.chart, startTasks };
}

/** `BENCH_UI=run-all`: only the cold start and the run-all rows (for quick turns on the run path). */
const RUN_ALL_ONLY = process.env['BENCH_UI'] === 'run-all';

async function longTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => (globalThis as unknown as { __longTasks: number[] }).__longTasks.splice(0));
}

async function runAll(page: Page): Promise<number> {
  await page.getByTestId('run-all').click();
  await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 120_000 });
  const text = (await page.getByTestId('run-time').textContent()) ?? '';
  return Number(/last run (\d+) ms/.exec(text)?.[1] ?? NaN);
}

export async function uiBench(root: string, runs: number): Promise<UiResult[]> {
  if (!existsSync(join(root, 'out/renderer/index.html'))) throw new Error('out/renderer is missing: run npm run build first');
  const workspace = mkdtempSync(join(tmpdir(), 'ntl-bench-ui-'));
  // The tour opens on a first start; the benchmark starts on the default notebook.
  writeFileSync(join(workspace, '.welcome'), 'bench\n');
  const server = spawn(process.execPath, [join(root, 'bin/serve.mjs'), '--port', '0'], {
    cwd: root,
    env: { ...process.env, NTL_WORKSPACE: workspace, NTL_MODELS_DIR: join(workspace, 'models') },
  });
  const profile = mkdtempSync(join(tmpdir(), 'ntl-bench-ui-profile-'));
  const results: UiResult[] = [];
  const add = (name: string, value: number, unit: string, note = ''): void => {
    results.push({ name, value, unit, note });
    console.log(`${name.padEnd(58)} ${value.toFixed(1).padStart(9)} ${unit.padEnd(3)} ${note}`);
  };
  /** The longest of `tasks`, and how many passed 50 ms. */
  const addLongest = (name: string, tasks: number[]): void =>
    add(name, Math.max(0, ...tasks), 'ms', `${tasks.filter((d) => d > 50).length} over 50 ms; target none over 50 ms`);
  /** A start's rows: to the model loaded and to the first chart (the driver's clock, then the page's), its longest task. */
  const addStart = (which: 'cold' | 'later', t: StartTimes): void => {
    const isCold = which === 'cold';
    add(isCold ? 'cold start to model loaded (seed-world)' : 'later start to model loaded (same profile)', t.loaded, 'ms', isCold ? 'page navigation to the backend badge' : "the browser's caches kept");
    add(isCold ? 'cold start to first chart' : 'later start to first chart (same profile)', t.firstChart, 'ms', 'target ≤ 1,000 ms (issue 18)');
    add(`${which} start to first chart, the page's clock`, t.pageChart, 'ms', `from its navigation start; Run all enabled at ${t.pageEnabled.toFixed(0)} ms, clicked at ${t.pageClicked.toFixed(0)} ms`);
    // The driver's click comes 100–500 ms after Run all is enabled (its checks, its round trips to the
    // page): the app's own share is the time to Run all enabled plus the time from the click on.
    add(`${which} start to first chart, clicked as enabled`, t.pageEnabled + (t.pageChart - t.pageClicked), 'ms', `the page's clock without the driver's delay: enabled, then ${(t.pageChart - t.pageClicked).toFixed(0)} ms from the click`);
    addLongest(`longest task during the ${which} start`, t.startTasks);
  };
  /** The longest of `cpu` (tasks' CPU times, longest first), how many passed 50 ms and the next three. */
  const addLongestCpu = (name: string, cpu: number[], where: string): void =>
    add(name, cpu[0] ?? 0, 'ms', `${cpu.filter((d) => d > 50).length} over 50 ms; next ${cpu.slice(1, 4).map((d) => d.toFixed(0)).join(', ')} ms (${where})`);
  /** A first run-all by the main thread's CPU time: the page loaded again, traced from the click. */
  const addFirstRunAllCpu = async (page: Page): Promise<void> => {
    await page.reload();
    await page.getByTestId('backend').filter({ hasText: /wasm|webgpu|native/ }).waitFor({ timeout: 60_000 });
    const cpu = await mainThreadCpu(page, async () => void (await runAll(page)));
    addLongestCpu('longest task during a first run-all, CPU time', cpu, 'page loaded again, from the click');
  };
  /**
   * Chromium on the benchmark's profile: fresh the first time, its caches kept the second. On a
   * profile used before, Chromium preloads its address bar's drop-down (a WebUI page of its own) as
   * it starts: 400 ms of CPU in a trace, during the later start, on 2 cores. That is the browser's
   * own start, not the app's (the desktop app has no address bar), so it is turned off.
   */
  const launch = (dir = profile) =>
    chromium.launchPersistentContext(dir, {
      executablePath: process.env['NTL_CHROMIUM'] ?? '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup'],
    });
  /**
   * A cold and a later start by the main thread's CPU time: on a profile of their own, each traced
   * from navigation to the model loaded. Their wall times (the rows above) also count the time the
   * thread waited for a core while the worker compiled and the browser's other processes ran.
   */
  const addStartCpu = async (url: string): Promise<void> => {
    const traced = mkdtempSync(join(tmpdir(), 'ntl-bench-ui-profile-'));
    try {
      for (const which of ['cold', 'later'] as const) {
        const context = await launch(traced);
        try {
          const page = await context.newPage();
          const cpu = await mainThreadCpu(page, async () => {
            await page.goto(url);
            await page.getByTestId('backend').filter({ hasText: /wasm|webgpu|native/ }).waitFor({ timeout: 60_000 });
          });
          addLongestCpu(`longest task during the ${which} start, CPU time`, cpu, 'a traced start of its own, navigation to the model loaded');
        } finally {
          await context.close();
        }
      }
    } finally {
      rmSync(traced, { recursive: true, force: true });
    }
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not start in 30 s')), 30_000);
      server.stdout.on('data', (chunk: Buffer) => {
        const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(String(chunk));
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const context = await launch();
    const startOnly = process.env['BENCH_UI'] === 'start';
    try {
      const page = await context.newPage();
      await page.addInitScript({ content: PAGE_PROBES });
      /** After the cold start: run-alls (wall and CPU time), generation, and memory over model switches. */
      const afterStart = async (): Promise<void> => {
        // Run-all after load: the prompt alternates so every cell runs again.
        const times: number[] = [];
        const tasks: number[] = [];
        for (let i = 0; i < runs; i++) {
          await page.getByTestId('prompt-input').fill(i % 2 === 0 ? 'The sun sets in the' : 'The sun rises in the');
          times.push(await runAll(page));
          tasks.push(...(await longTasks(page)));
        }
        add('run-all after load (the app\'s own figure)', median(times), 'ms', `median of ${runs}; target ≤ 150 ms (issue 18)`);
        add('longest task during later run-alls', Math.max(0, ...tasks), 'ms', `${tasks.filter((d) => d > 50).length} of ${tasks.length} long tasks over 50 ms in ${runs} runs`);
        // The same tasks by the main thread's CPU time (the trace's): what the page's code costs,
        // without the time a loaded machine made the thread wait (typing the prompt included).
        const cpu: number[] = [];
        for (let i = 0; i < runs; i++) {
          const prompt = i % 2 === 0 ? 'The sun sets in the' : 'The sun rises in the';
          cpu.push(...(await mainThreadCpu(page, async () => {
            await page.getByTestId('prompt-input').fill(prompt);
            await runAll(page);
          })));
        }
        cpu.sort((a, b) => b - a);
        addLongestCpu('longest task during later run-alls, CPU time', cpu, "the main thread's CPU time, Chromium's trace");
        await longTasks(page);
        if (RUN_ALL_ONLY) {
          await addFirstRunAllCpu(page);
          return;
        }

        // Generation: 12 tokens stepped by the Sample cell.
        await longTasks(page);
        await page.getByTestId('sample-generate').click();
        await page.locator('[data-testid=cell-sample][data-status=done]').waitFor({ timeout: 120_000 });
        const genTasks = await longTasks(page);
        add('longest task during generation (12 tokens)', Math.max(0, ...genTasks), 'ms', `${genTasks.filter((d) => d > 50).length} over 50 ms`);

        // Memory over 20 model switches (sessions released each time), after one round trip has
        // loaded each model once (the WebAssembly heap keeps its high-water mark).
        const switchTo = async (id: string): Promise<number> => {
          const t = performance.now();
          await page.getByTestId('model-select').selectOption(id);
          await page.locator('[data-testid=model-select]:not([disabled])').waitFor({ timeout: 60_000 });
          await page.getByTestId('backend').filter({ hasText: /wasm|webgpu|native/ }).waitFor({ timeout: 60_000 });
          return performance.now() - t;
        };
        const start = browserRssMb(profile);
        await switchTo('tiny-shakespeare');
        await switchTo('seed-world');
        const before = browserRssMb(profile);
        const switches: number[] = [];
        for (let i = 0; i < 20; i++) switches.push(await switchTo(i % 2 === 0 ? 'tiny-shakespeare' : 'seed-world'));
        const after = browserRssMb(profile);
        // Alternate switches load different models (tiny-shakespeare's files are 3.5× seed-world's): a median each.
        add('model switch to tiny-shakespeare', median(switches.filter((_, i) => i % 2 === 0)), 'ms', 'median of 10, to the model loaded; one load in 8 starts a fresh worker');
        add('model switch to seed-world', median(switches.filter((_, i) => i % 2 === 1)), 'ms', 'median of 10, to the model loaded');
        add('browser memory with seed-world loaded', start, 'MB', 'RSS of every Chromium process');
        add('browser memory after one round trip', before, 'MB', 'each model loaded once');
        add('browser memory after 20 more switches', after, 'MB', `${(((after - before) / before) * 100).toFixed(1)}% growth over the 20; target < 10%`);
      };
      // Cold start: from navigation to the model loaded, then to the first chart of Run all.
      addStart('cold', await startToFirstChart(page, url));
      addLongest('longest task during the first run-all (from the click)', await longTasks(page));
      if (!startOnly) await afterStart();
    } finally {
      await context.close();
    }
    if (RUN_ALL_ONLY) return results;
    // A later start on the same profile: what the browser kept (its HTTP cache, compiled
    // WebAssembly and JavaScript) is used again.
    const again = await launch();
    try {
      const page = await again.newPage();
      await page.addInitScript({ content: PAGE_PROBES });
      addStart('later', await startToFirstChart(page, url));
      if (!startOnly) await addFirstRunAllCpu(page);
    } finally {
      await again.close();
    }
    await addStartCpu(url);
  } finally {
    server.kill();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
  return results;
}
