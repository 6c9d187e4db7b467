import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, expect, ntl, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'models');
const PROMPT = 'The sun rises in the';

test.describe('the model files people download', () => {
  test('a merged, int8-quantized decoder picked with the folder picker is run before it is added, and generates on its cache', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    // As the hub publishes it: JSON files and onnx/decoder_model_merged_quantized.onnx alone.
    const source = join(mkdtempSync(join(tmpdir(), 'ntl-e2e-import-')), 'gpt2 merged int8');
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/decoder_model_merged_quantized.onnx']) {
      cpSync(join(FIXTURES, 'gpt2-optimum-split', file), join(source, file), { recursive: true });
    }
    await page.getByTestId('models-open').click();
    await page.getByTestId('model-folder-input').setInputFiles(source);
    await expect(page.getByTestId('import-status')).toContainText('Added', { timeout: 60_000 });
    const row = page.locator('[data-testid="model-row"][data-model-id="gpt2-merged-int8"]');
    await expect(row).toContainText('int8 dynamic');
    await expect(page.getByTestId('model-select')).toHaveValue('gpt2-merged-int8');
    await nb.waitForModel();
    await page.getByTestId('models-close').click();
    await expect(page.getByTestId('kv-cache')).toHaveText('generates on a key/value cache');
    await nb.setPrompt(PROMPT);
    await nb.runAllAndWait();
    // The greedy tokens of the same file run directly in onnxruntime-node (tools/fixtures/reference_from_onnx.mjs).
    const reference = JSON.parse(readFileSync(join(ROOT, 'tests', 'fixtures', 'gpt2-optimum-split-reference.json'), 'utf8')) as {
      files: { file: string; prompts: { top: { id: number }[]; greedy?: number[] }[] }[];
    };
    const expected = reference.files.find((f) => f.file === 'onnx/decoder_model_merged_quantized.onnx')?.prompts[0];
    expect((await nb.topPrediction()).id).toBe(expected?.top[0]?.id);
    await page.getByTestId('sample-strategy').selectOption('greedy');
    await page.getByTestId('sample-max-tokens').fill('8');
    await page.getByTestId('sample-max-tokens').blur();
    await page.getByTestId('sample-generate').click();
    await expect(nb.cell('sample')).toHaveAttribute('data-status', 'done');
    await expect(page.getByTestId('sample-step-row')).toHaveCount(8);
    const cli = ntl(['generate', '--model', join(server.workspace, 'models', 'gpt2-merged-int8'), '--prompt', PROMPT, '--strategy', 'greedy', '--max-tokens', '8']) as {
      text: string;
      steps: { id: number }[];
      timing: { kv_cache: boolean };
    };
    expect(cli.steps.map((s) => s.id)).toEqual(expected?.greedy);
    expect(cli.timing.kv_cache).toBe(true);
    await expect(page.getByTestId('sample-output')).toHaveText(cli.text);
    // The cache stayed in use through the generation.
    await expect(page.getByTestId('kv-cache')).toHaveText('generates on a key/value cache');
    rmSync(source, { recursive: true, force: true });
    rmSync(join(server.workspace, 'models', 'gpt2-merged-int8'), { recursive: true, force: true });
  });

  test("a hub folder's variants: fp16 chosen in the Models panel predicts what ntl --variant fp16 does", async ({ page, server }) => {
    // A folder laid out as the hub has it, straight in the models folder: five variants of one model.
    cpSync(join(FIXTURES, 'gpt2-hub'), join(server.workspace, 'models', 'gpt2-hub'), { recursive: true });
    const nb = new NotebookPage(page);
    await page.reload();
    await nb.waitForModel();
    await page.getByTestId('models-open').click();
    const row = page.locator('[data-testid="model-row"][data-model-id="gpt2-hub"]');
    await row.getByRole('button', { name: 'Use' }).click();
    await nb.waitForModel();
    const variant = row.getByTestId('model-variant');
    await expect(variant.locator('option')).toHaveText([/^fp32 · /, /^fp16 · /, /^quantized · /, /^int8 · /, /^q4 · /]);
    await expect(variant).toHaveValue('fp32');
    await variant.selectOption('fp16');
    await nb.waitForModel();
    await page.getByTestId('models-close').click();
    await nb.setPrompt(PROMPT);
    await nb.runAllAndWait();
    const cli = ntl(['predict', '--model', join(server.workspace, 'models', 'gpt2-hub'), '--variant', 'fp16', '--prompt', PROMPT, '--top', '3']) as { top: { id: number; prob: number }[] };
    expect((await nb.topPrediction()).id).toBe(cli.top[0]?.id);
    // Attention computed in half precision sums to 1 within its rounding (a step of 2⁻¹¹ near 1), and the cell shows the real sum.
    await expect(page.getByTestId('attend-summary')).toContainText(/Its row sums to (0\.999\d|1\.000\d)\./);
    rmSync(join(server.workspace, 'models', 'gpt2-hub'), { recursive: true, force: true });
  });
});
