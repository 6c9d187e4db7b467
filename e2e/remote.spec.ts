import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { downloadCsv, enter, expect, expectChartDrawn, ntl, ROOT, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';
import { RemotePage } from './pages/remote-page';

/**
 * A served model in the browser build: `ntl serve-openai` on a free port with the bundled
 * seed-world, reached through the app's serve process (the page never talks to it), every number
 * compared with the same model run locally by `ntl`.
 */

const PROMPT = 'The sun rises in the';
let openai: ChildProcess;
let baseUrl = '';

test.beforeAll(async () => {
  openai = spawn(process.execPath, [join(ROOT, 'bin/ntl.mjs'), 'serve-openai', '--port', '0', '--model', 'seed-world'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  baseUrl = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = / at (http:\/\/127\.0\.0\.1:\d+\/v1) /.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    openai.stdout?.on('data', onData);
    openai.stderr?.on('data', onData);
    openai.on('exit', (code) => reject(new Error(`ntl serve-openai exited with ${code}:\n${output}`)));
  });
});

test.afterAll(() => {
  openai.kill();
});

test.describe('a served model', () => {
  test('Predict\'s top K and the prompt\'s surprisal equal the local model (within 1e-5); the views a server lacks say so', async ({ page }) => {
    const nb = new NotebookPage(page);
    const remote = new RemotePage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    await remote.use(baseUrl, 'seed-world');
    await expect(remote.banner.getByTestId('remote-unavailable')).toContainText('Embed, Attend, Context, the logit lens, interventions, beam search: not available, because the server does not return attention weights, embeddings or hidden states');
    await remote.runAndWait();
    await expect(remote.predict).toHaveAttribute('data-status', 'done');

    const local = ntl(['predict', '--model', 'seed-world', '--prompt', PROMPT, '--top', '10']) as { top: { token: string; prob: number }[] };
    const rows = remote.predict.getByTestId('predict-row');
    await expect(rows).toHaveCount(10);
    const probs = await remote.numbers(rows, 'data-prob');
    const tokens = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-token')));
    expect(tokens).toEqual(local.top.map((t) => t.token));
    probs.forEach((p, i) => expect(Math.abs((p ?? NaN) - (local.top[i]?.prob ?? 0))).toBeLessThan(1e-5));
    const other = Number(await remote.predict.getByTestId('predict-other').getAttribute('data-prob'));
    expect(Math.abs(other - (1 - local.top.reduce((a, t) => a + t.prob, 0)))).toBeLessThan(1e-5);
    await expect(remote.predict.getByTestId('remote-entropy')).toContainText('Entropy over the top 10 only');
    await expectChartDrawn(remote.predict.getByTestId('chart-predict-remote'));

    const expected = ntl(['surprisal', '--model', 'seed-world', '--prompt', PROMPT, '--top', '5']) as { tokens: { prob: number | null; bits: number | null; rank: number | null }[] };
    const surprisalRows = remote.surprisal.getByTestId('surprisal-row');
    await expect(surprisalRows).toHaveCount(expected.tokens.length);
    const remoteProbs = await remote.numbers(surprisalRows, 'data-prob');
    const remoteBits = await remote.numbers(surprisalRows, 'data-bits');
    const remoteRanks = await remote.numbers(surprisalRows, 'data-rank');
    expected.tokens.forEach((t, i) => {
      if (t.prob === null || t.bits === null) {
        expect(remoteProbs[i]).toBeNull();
        return;
      }
      expect(Math.abs((remoteProbs[i] ?? NaN) - t.prob)).toBeLessThan(1e-5);
      expect(Math.abs((remoteBits[i] ?? NaN) - t.bits)).toBeLessThan(1e-4);
      expect(remoteRanks[i]).toBe(t.rank !== null && t.rank <= 5 ? t.rank : null);
    });
    const chart = remote.surprisal.getByTestId('chart-surprisal');
    await expectChartDrawn(chart);
    const csv = await downloadCsv(page, remote.surprisal);
    expect(csv[0]).toEqual(['position', 'id', 'token', 'probability', 'bits', 'rank']);
    expect(csv).toHaveLength(expected.tokens.length + 1);
  });

  test('Compare: two columns sampled by the server; Cancel stops the second and keeps the first', async ({ page }) => {
    const nb = new NotebookPage(page);
    const remote = new RemotePage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    await remote.use(baseUrl, 'seed-world');
    // The second column's request is held until Cancel has been pressed, so Cancel lands while it runs
    // (before the serve process has it: it then stops that generation as soon as it arrives).
    let requests = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/remote/generate', async (route) => {
      requests++;
      if (requests === 2) await held;
      await route.continue().catch(() => undefined);
    });
    await remote.compare.getByTestId('remote-compare-run').click();
    const columns = remote.compare.getByTestId('compare-column');
    await expect(columns).toHaveCount(2);
    await expect(columns.nth(0)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(columns.nth(1)).toHaveAttribute('data-status', 'running');
    await remote.compare.getByTestId('cancel').click();
    release();
    await expect(columns.nth(1)).toHaveAttribute('data-status', 'cancelled');
    await expect(remote.compare).toHaveAttribute('data-status', 'done');
    // Column A (greedy, seed 42, 8 tokens): the tokens of ntl generate on the local model.
    const greedy = ntl(['generate', '--model', 'seed-world', '--prompt', PROMPT, '--strategy', 'greedy', '--seed', '42', '--max-tokens', '8']) as { text: string };
    await expect(columns.nth(0).getByTestId('sample-output')).toHaveText(greedy.text);
    await expect(columns.nth(0).getByTestId('remote-sent')).toHaveText('sent: temperature 0');
    await expect(columns.nth(1).getByTestId('remote-sent')).toHaveText('sent: temperature 0.8, top_k 5');
    // Cancelled before its stream began: no step, and said so on the column.
    await expect(columns.nth(1)).toContainText('0 tokens · stopped: cancelled');
    await page.unroute('**/api/remote/generate');
    // Run again without holding: both columns finish.
    await remote.compare.getByTestId('remote-compare-run').click();
    await expect(columns.nth(1)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    const topK = ntl(['generate', '--model', 'seed-world', '--prompt', PROMPT, '--strategy', 'top-k', '--temperature', '0.8', '--top-k', '5', '--seed', '42', '--max-tokens', '8']) as { text: string };
    await expect(columns.nth(1).getByTestId('sample-output')).toHaveText(topK.text);
  });

  test('the top bar names the served model in place of the local picker and backend; "Use a local model" brings them back', async ({ page }) => {
    const nb = new NotebookPage(page);
    const remote = new RemotePage(page);
    await nb.waitForModel();
    await remote.use(baseUrl, 'seed-world');
    const root = baseUrl.replace(/\/v1$/, '');
    await expect(page.getByTestId('remote-badge')).toHaveText(`Served model seed-world at ${root}`);
    await expect(page.getByTestId('backend-choice')).toHaveCount(0);
    await expect(page.getByTestId('model-precision')).toHaveCount(0);
    await page.locator('header.topbar').screenshot({ path: '/tmp/remote2-shots/topbar-served.png' });
    await page.getByTestId('remote-leave-top').click();
    await expect(page.getByTestId('remote-badge')).toHaveCount(0);
    await expect(page.getByTestId('model-select')).toHaveValue('seed-world');
    await expect(page.getByTestId('backend')).toBeVisible();
    await expect(remote.banner).toHaveCount(0);
    await expect(page.getByTestId('cell-embed')).toBeVisible();
    await page.locator('header.topbar').screenshot({ path: '/tmp/remote2-shots/topbar-local.png' });
  });

  test('Compare on the server: columns edited in its own controls and kept in the notebook; forking from an alternative continues on the server', async ({ page }) => {
    const nb = new NotebookPage(page);
    const remote = new RemotePage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    await remote.use(baseUrl, 'seed-world');
    const setup = remote.compare.getByTestId('remote-setup-column');
    await expect(setup).toHaveCount(2);
    await remote.compare.getByTestId('compare-add-column').click();
    await expect(setup).toHaveCount(3);
    await setup.nth(1).getByTestId('compare-remove-column').click();
    await expect(setup).toHaveCount(2);
    const c = setup.nth(1);
    await expect(c).toHaveAttribute('data-name', 'C');
    await c.getByTestId('compare-strategy').selectOption('top-k');
    const set = (field: string, value: string): Promise<void> => enter(c.getByTestId(field), value);
    // A refused number keeps its text and names the field and its range, as in the local Compare.
    await set('compare-seed', '-1');
    await expect(remote.compare.getByTestId('compare-control-error')).toHaveText('Column C: Seed must be a whole number from 0 to 4,294,967,295, not −1.');
    await set('compare-seed', '7');
    await expect(remote.compare.getByTestId('compare-control-error')).toHaveCount(0);
    await set('compare-temperature', '0.7');
    await set('compare-top-k', '3');
    await remote.compare.getByTestId('compare-max-tokens').fill('6');
    await remote.compare.getByTestId('compare-max-tokens').blur();

    await remote.compare.getByTestId('remote-compare-run').click();
    const columns = remote.compare.getByTestId('compare-column');
    await expect(columns).toHaveCount(2);
    await expect(columns.nth(1)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(columns.nth(1).getByTestId('remote-sent')).toHaveText('sent: temperature 0.7, top_k 3');
    const topK = ntl(['generate', '--model', 'seed-world', '--prompt', PROMPT, '--strategy', 'top-k', '--temperature', '0.7', '--top-k', '3', '--seed', '7', '--max-tokens', '6']) as { text: string };
    await expect(columns.nth(1).getByTestId('sample-output')).toHaveText(topK.text);

    // Fork column A (greedy) at step 2 with the server's second most likely token there.
    const a = columns.nth(0);
    await a.getByTestId('remote-step').nth(1).click();
    const alternative = a.getByTestId('remote-alternatives').getByTestId('remote-alternative').nth(1);
    const first = (await a.getByTestId('remote-step').nth(0).getAttribute('data-token')) ?? '';
    const taken = (await alternative.getAttribute('data-token')) ?? '';
    expect(taken).not.toBe(await a.getByTestId('remote-step').nth(1).getAttribute('data-token'));
    await alternative.click();
    await expect(columns).toHaveCount(3);
    const forked = columns.nth(2);
    await expect(forked).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(forked.getByTestId('compare-forked-from')).toContainText('Forked from A at step 2: its tokens up to there were sent as the prompt (as token ids)');
    await expect(forked.getByTestId('remote-step')).toHaveCount(6);
    // Its first two steps are the fork's; the server went on from that prefix with A's settings and seed.
    const prefix = PROMPT + first + taken;
    const rest = ntl(['generate', '--model', 'seed-world', '--prompt', prefix, '--strategy', 'greedy', '--seed', '42', '--max-tokens', '4']) as { text: string };
    await expect(forked.getByTestId('sample-output')).toHaveText(rest.text);
    await remote.compare.screenshot({ path: '/tmp/remote2-shots/served-fork.png' });

    // The set-up is the notebook's: exported with it, and the local Compare shows the same columns.
    await page.getByTestId('notebook-export').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-notebook').click()]);
    const saved = JSON.parse(readFileSync((await download.path()) ?? '', 'utf8')) as { model: unknown; compare: unknown };
    expect(saved.model).toEqual({ id: 'remote:seed-world', sha256: null, baseUrl, timeoutS: 60 });
    expect(saved.compare).toEqual({ maxTokens: 6, columns: [{ name: 'A', seed: 42, strategy: { strategy: 'greedy' } }, { name: 'C', seed: 7, strategy: { strategy: 'top-k', temperature: 0.7, topK: 3 } }] });
    await page.getByTestId('remote-leave-top').click();
    const local = page.getByTestId('cell-compare').getByTestId('compare-column');
    await expect(local).toHaveCount(2);
    await expect(local.nth(1).getByTestId('compare-top-k')).toHaveValue('3');
  });

  test('Sample on the server: the Sample cell\'s settings sent, the ones no server takes named on the column', async ({ page }) => {
    const nb = new NotebookPage(page);
    const remote = new RemotePage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    const set = (testid: string, value: string): Promise<void> => enter(page.getByTestId(testid), value);
    await page.getByTestId('sample-strategy').selectOption('top-p');
    await set('sample-temperature', '1.3');
    await set('sample-seed', '5');
    await set('sample-max-tokens', '6');
    await page.getByTestId('sample-knobs').locator('summary').click();
    await set('sample-min-p', '0.02');
    await set('sample-typical-p', '0.9');
    await remote.use(baseUrl, 'seed-world');
    const cell = page.getByTestId('cell-sample');
    await cell.getByTestId('remote-sample-run').click();
    const column = cell.getByTestId('compare-column');
    await expect(column).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(column.getByTestId('remote-sent')).toHaveText('sent: temperature 1.3, top_p 0.9, min_p 0.02');
    await expect(column.getByTestId('not-applied')).toHaveText(['typical-p: not applied by this server: the completions API has no such parameter']);
    // What was sent is sampled with the lab's chain by serve-openai: the local run of those settings alone.
    const local = ntl(['generate', '--model', 'seed-world', '--prompt', PROMPT, '--temperature', '1.3', '--top-p', '0.9', '--min-p', '0.02', '--seed', '5', '--max-tokens', '6']) as { text: string; steps: unknown[] };
    await expect(column.getByTestId('sample-output')).toHaveText(local.text);
    await expect(column.getByTestId('remote-step')).toHaveCount(local.steps.length);
  });

  test('prompt surprisal of the local model, beside Predict: the values of ntl surprisal (whole-vocabulary ranks)', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const prompt = 'The sun rises in the east';
    await nb.setPrompt(prompt);
    await nb.runAllAndWait();
    await page.getByTestId('predict-surprisal-toggle').check();
    const panel = page.getByTestId('local-surprisal');
    const expected = ntl(['surprisal', '--model', 'seed-world', '--prompt', prompt, '--top', '5']) as { tokens: { prob: number | null; bits: number | null; rank: number | null }[]; mean_bits: number };
    const rows = panel.getByTestId('surprisal-row');
    await expect(rows).toHaveCount(expected.tokens.length);
    const remote = new RemotePage(page);
    const probs = await remote.numbers(rows, 'data-prob');
    const ranks = await remote.numbers(rows, 'data-rank');
    expected.tokens.forEach((t, i) => {
      if (t.prob === null) return expect(probs[i]).toBeNull();
      expect(Math.abs((probs[i] ?? NaN) - t.prob)).toBeLessThan(1e-5);
      expect(ranks[i]).toBe(t.rank);
    });
    await expect(panel.getByTestId('surprisal-summary')).toContainText(`Mean ${expected.mean_bits.toFixed(3)} bits per token`);
    await expectChartDrawn(panel.getByTestId('chart-surprisal'));
  });

  test('faults: a server that is not there and an address that is not http(s) are named with the cause; the form stays usable', async ({ page }) => {
    const nb = new NotebookPage(page);
    const remote = new RemotePage(page);
    await nb.waitForModel();
    await page.getByTestId('models-open').click();
    const gone = await new Promise<string>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(`http://127.0.0.1:${address !== null && typeof address === 'object' ? address.port : 0}`));
      });
    });
    await remote.form.getByTestId('remote-base-url').fill(`${gone}/v1`);
    await remote.form.getByTestId('remote-list').click();
    await expect(remote.form.getByTestId('remote-error')).toHaveText(`server ${gone}: connection refused (is the server running on that port?)`);
    await remote.form.getByTestId('remote-base-url').fill('ftp://example.com/v1');
    await remote.form.getByTestId('remote-list').click();
    await expect(remote.form.getByTestId('remote-error')).toHaveText('the server address must be an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1');
    // The form stays usable: the right address lists the model.
    await remote.form.getByTestId('remote-base-url').fill(baseUrl);
    await remote.form.getByTestId('remote-list').click();
    await expect(remote.form.getByTestId('remote-error')).toHaveCount(0);
    await expect(remote.form.getByTestId('remote-key-source')).toHaveText('no key (servers on this machine rarely need one)');
  });
});
