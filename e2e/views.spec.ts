import type { Locator } from '@playwright/test';
import { allHeadStats, attentionRollout } from '../src/engine/attention-stats';
import { smallMultiplesPanelBox, type MultiplesLayout } from '../src/common/small-multiples-layout';
import { downloadCsv, expect, expectChartDrawn, ntl, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

const PROMPT = 'The sun rises in the';
const LAYERS = 3;
const HEADS = 4;

interface AttentionJson {
  tokens: { id: number; text: string }[];
  layers: number;
  heads: number;
  attention: number[][][][];
}

/** ntl's [layer][head][query][key] weights in the engine's per-layer layout. */
function engineLayout(reference: AttentionJson): Float32Array[] {
  return reference.attention.map((heads) => Float32Array.from(heads.flat(2)));
}


/** A point inside panel `index` of a small-multiples view, in its lower left where the causal weights are. */
async function panelPoint(view: Locator, count: number, showAxisLabels: boolean, index: number): Promise<{ chart: Locator; position: { x: number; y: number } }> {
  const layout: MultiplesLayout = {
    count,
    columns: Number(await view.getAttribute('data-columns')),
    panelHeight: Number(await view.getAttribute('data-panel-height')),
    showAxisLabels,
  };
  const box = smallMultiplesPanelBox(layout, index);
  const chart = view.locator('[data-testid^="chart-"]');
  const width = (await chart.boundingBox())?.width ?? 0;
  return { chart, position: { x: (width * (box.leftPct + box.widthPct * 0.25)) / 100, y: box.top + box.height * 0.75 } };
}

test.describe('the attention views on the bundled model', () => {
  test('heads and layers grids, head statistics, rollout and lines come from the real weights', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    await nb.runAllAndWait();
    const reference = ntl(['attention', '--model', 'seed-world', '--prompt', PROMPT]) as unknown as AttentionJson;
    expect([reference.layers, reference.heads]).toEqual([LAYERS, HEADS]);
    const n = reference.tokens.length;
    const cell = nb.cell('attend');

    // All heads of the chosen layer, and every layer × head, drawn; their CSV holds each weight once.
    const headsGrid = cell.getByTestId('attend-heads-grid');
    await expect(headsGrid).toHaveAttribute('data-heads', String(HEADS));
    await expectChartDrawn(headsGrid.getByTestId('chart-attention-heads'));
    const headsCsv = await downloadCsv(page, headsGrid);
    expect(headsCsv.slice(1).map((r) => r[1])).toEqual(Array.from({ length: HEADS }, (_, h) => Array(n * (n + 1) / 2).fill(String(h))).flat());
    const layersGrid = cell.getByTestId('attend-layers-grid');
    await expect(layersGrid).toHaveAttribute('data-layers', String(LAYERS));
    await expect(layersGrid).toHaveAttribute('data-heads', String(HEADS));
    await expectChartDrawn(layersGrid.getByTestId('chart-attention-layers'));
    const layersCsv = await downloadCsv(page, layersGrid);
    expect(new Set(layersCsv.slice(1).map((r) => `${r[0]}:${r[1]}`)).size).toBe(LAYERS * HEADS);
    // Layer 2, head 3 of the CLI's forward pass, query 4, key 1: the page's weight is the same.
    const exported = layersCsv.find((r) => r[0] === '2' && r[1] === '3' && r[2]?.startsWith('4:') && r[3]?.startsWith('1:'));
    expect(Number(exported?.[4])).toBeCloseTo(reference.attention[2]?.[3]?.[4]?.[1] ?? NaN, 5);

    // Clicking a thumbnail selects its layer and head in the main heatmap; clicking a head of the grid, that head.
    const thumbnail = await panelPoint(layersGrid, LAYERS * HEADS, false, 2 * HEADS + 3);
    await thumbnail.chart.click({ position: thumbnail.position });
    await expect(cell.getByTestId('attend-layer')).toHaveValue('2');
    await expect(cell.getByTestId('attend-head')).toHaveValue('3');
    await expect(cell.getByTestId('attend-summary')).toContainText('layer 2, head 3.');
    const headPanel = await panelPoint(headsGrid, HEADS, true, 1);
    await headPanel.chart.click({ position: headPanel.position });
    await expect(cell.getByTestId('attend-layer')).toHaveValue('2');
    await expect(cell.getByTestId('attend-head')).toHaveValue('1');
    // Hovering a head's cell gives the exact weight.
    await headPanel.chart.hover({ position: { x: headPanel.position.x + 2, y: headPanel.position.y + 2 } });
    await expect(headsGrid).toContainText(/head 1\s*query: .+\s*key: .+\s*weight: \d\.\d{4}/);

    // Head statistics: one row per layer × head, equal to the statistics of ntl's weights.
    const expected = allHeadStats(engineLayout(reference), HEADS, n);
    const stats = cell.getByTestId('attend-head-stats');
    await expect(stats).toContainText('mean weight on the previous position (i−1) ≥ 0.5');
    const rows = stats.getByTestId('head-stats-row');
    await expect(rows).toHaveCount(LAYERS * HEADS);
    for (const [i, want] of expected.entries()) {
      const row = rows.nth(i);
      await expect(row).toHaveAttribute('data-layer', String(want.layer));
      await expect(row).toHaveAttribute('data-head', String(want.head));
      for (const key of ['entropyBits', 'entropyNormalised', 'previous', 'first', 'self'] as const) {
        const td = row.locator(`[data-stat="${key}"]`);
        const value = Number(await td.getAttribute('data-value'));
        expect(value, `layer ${want.layer} head ${want.head} ${key}`).toBeCloseTo(want[key], 4);
        expect(await td.textContent()).toBe(value.toFixed(3));
      }
      await expect(row.locator('[data-stat="labels"]')).toHaveText(want.labels.join(', ') || '—');
    }
    await expectChartDrawn(stats.getByTestId('chart-head-stats'));

    // Rollout: bars for every token, summing to 1, equal to the rollout of ntl's weights.
    const rollout = cell.getByTestId('attend-rollout');
    await expectChartDrawn(rollout.getByTestId('chart-attention-rollout'));
    const bars = (await downloadCsv(page, rollout)).slice(1).map((r) => Number(r[2]));
    expect(bars).toHaveLength(n);
    expect(Math.abs(bars.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-4);
    const want = attentionRollout(engineLayout(reference), HEADS, n)[n - 1] ?? [];
    bars.forEach((b, i) => expect(b).toBeCloseTo(want[i] ?? NaN, 5));

    // Lines: one head, then the layer's average.
    const lines = cell.getByTestId('attend-lines');
    await expectChartDrawn(lines.getByTestId('chart-attention-lines'));
    const oneHead = (await downloadCsv(page, lines)).slice(1);
    expect(oneHead).toHaveLength((n * (n + 1)) / 2);
    expect(Number(oneHead.at(-1)?.[2])).toBeCloseTo(reference.attention[2]?.[1]?.[n - 1]?.[n - 1] ?? NaN, 5);
    await lines.getByTestId('attend-lines-source').selectOption('average');
    const average = (await downloadCsv(page, lines)).slice(1);
    const mean = (reference.attention[2] ?? []).reduce((s, head) => s + (head[n - 1]?.[0] ?? 0), 0) / HEADS;
    expect(Number(average.find((r) => r[0]?.startsWith(`${n - 1}:`) && r[1]?.startsWith('0:'))?.[2])).toBeCloseTo(mean, 5);

    // Every view exports PNG, SVG and CSV.
    for (const view of [headsGrid, layersGrid, stats, rollout, lines]) {
      for (const action of ['export-png', 'export-svg', 'export-csv']) await expect(view.getByTestId(action)).toBeVisible();
    }
    await page.getByTestId('attend-palette').selectOption('cividis');
    await expectChartDrawn(headsGrid.getByTestId('chart-attention-heads'));
    await page.getByTestId('attend-palette').selectOption('viridis');

    await page.setViewportSize({ width: 1280, height: 900 });
    await cell.screenshot({ path: process.env['NTL_VIEWS_SCREENSHOT'] ?? '/tmp/views.png' });
  });

  test('the weighted sum made concrete: each earlier token weight × value, their shares adding up to the output', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await nb.runAllAndWait();
    await page.getByTestId('attend-layer').selectOption('1');
    await page.getByTestId('attend-head').selectOption('2');
    await page.getByTestId('attend-query').selectOption('2');
    const panel = page.getByTestId('attend-value-sum');
    const rows = panel.getByTestId('value-sum-row');
    await expect(rows).toHaveCount(3);
    const reference = ntl(['attention', '--model', 'seed-world', '--prompt', PROMPT, '--layer', '1', '--head', '2']) as unknown as AttentionJson;
    const weights = reference.attention[0]?.[0]?.[2] ?? [];
    let along = 0;
    for (let k = 0; k < 3; k++) {
      expect(Number(await rows.nth(k).getAttribute('data-weight'))).toBeCloseTo(weights[k] ?? NaN, 4);
      along += Number(await rows.nth(k).getAttribute('data-along'));
    }
    expect(along).toBeCloseTo(1, 6);
    // 3 parts × 32 dimensions of the head, each part its weight times the value.
    const csv = await downloadCsv(page, panel.getByTestId('chart-value-sum').locator('..'));
    expect(csv[0]).toEqual(['key_position', 'key_token', 'dimension', 'weight', 'weight_times_value']);
    expect(csv).toHaveLength(1 + 3 * 32);
  });
});
