import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { softmax } from '../../src/engine/sampling/distribution';
import type { OnnxModel } from '../../src/engine/session';
import { GgufModel } from '../../src/node/gguf-model';
import { loadBundled, ROOT } from '../engine/load-model';
import { tempDir } from './helpers';

/**
 * The bundled models written as GGUF by tools/train/export_gguf.py give the ONNX models' next-token
 * distribution on llama.cpp. seed-world's files are committed (tests/fixtures/gguf,
 * 4.5 MB); tiny-shakespeare's (15.6 MB) are written into a temporary folder where Debian's python3-onnx
 * is installed. One gap is not the export's: the bundled models use the exact (erf) GELU, llama.cpp's
 * gpt2 the tanh GELU from a float16 table; on these prompts that moves probabilities by up to
 * F32_TOLERANCE (measured 1.3e-4 on seed-world, 3.6e-4 on tiny-shakespeare; Q8_0 6.4e-3 and 6.1e-3), against the twin's 1.6e-4
 * with the tanh GELU on both sides (gguf-model.test.ts).
 */
const F32_TOLERANCE = 6e-4;
const Q8_TOLERANCE = 2e-2;
const SEED_GGUF = join(ROOT, 'tests/fixtures/gguf');

const PROMPTS: Record<string, string[]> = {
  'seed-world': ['The sun rises in the', 'She took her money to the bank. At the bank she', 'The cat sat on the', 'A bird flies over the river and', 'The children go to school in the'],
  'tiny-shakespeare': ['ROMEO:\nWhat light through yonder', 'First Citizen:\nBefore we proceed any further, hear me', 'KING HENRY:\nO God', 'To be, or not to be'],
};

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
};
const argmax = (a: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < a.length; i++) if ((a[i] ?? -Infinity) > (a[best] ?? -Infinity)) best = i;
  return best;
};

const hasPythonOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx, torch, numpy'], { stdio: 'ignore' }).status === 0;

async function expectSameDistribution(id: string, f32Path: string, q8Path: string): Promise<{ f32: number; q8: number }> {
  const onnx: OnnxModel = await loadBundled(join(ROOT, 'resources/models', id));
  const f32 = await GgufModel.load(f32Path, { threads: 1 });
  const q8 = await GgufModel.load(q8Path, { threads: 1 });
  const worst = { f32: 0, q8: 0 };
  try {
    expect(f32.config).toMatchObject({ vocabSize: onnx.config.vocabSize, layers: onnx.config.layers, heads: onnx.config.heads, hidden: onnx.config.hidden, context: onnx.config.context });
    for (const prompt of PROMPTS[id] ?? []) {
      const ids = onnx.tokenizer.encode(prompt);
      expect(f32.tokenizer.encode(prompt), prompt).toEqual(ids);
      const reference = softmax((await onnx.forward(ids, false)).lastLogits);
      const p32 = softmax(await f32.nextLogits(ids));
      const p8 = softmax(await q8.nextLogits(ids));
      worst.f32 = Math.max(worst.f32, maxDiff(p32, reference));
      worst.q8 = Math.max(worst.q8, maxDiff(p8, reference));
      expect(argmax(p32), prompt).toBe(argmax(reference));
      expect(argmax(p8), prompt).toBe(argmax(reference));
    }
  } finally {
    await f32.release();
    await q8.release();
    await onnx.release();
  }
  expect(worst.f32).toBeLessThan(F32_TOLERANCE);
  expect(worst.q8).toBeLessThan(Q8_TOLERANCE);
  // Not the same numbers by accident: the Q8_0 file is measurably off, the F32 file much less.
  expect(worst.q8).toBeGreaterThan(worst.f32);
  return worst;
}

describe('the bundled models as GGUF (tools/train/export_gguf.py) next to their ONNX files', () => {
  it('seed-world: the same tokens, the same top-1, probabilities within the GELU gap (F32) and 2e-2 (Q8_0)', async () => {
    const worst = await expectSameDistribution('seed-world', join(SEED_GGUF, 'seed-world-f32.gguf'), join(SEED_GGUF, 'seed-world-q8_0.gguf'));
    console.log(`seed-world: F32 max |Δp| ${worst.f32.toExponential(2)}, Q8_0 ${worst.q8.toExponential(2)}`);
  }, 120_000);

  describe.skipIf(!hasPythonOnnx)('written again by the exporter (needs /usr/bin/python3 with onnx and torch)', () => {
    let out = '';
    beforeAll(async () => {
      out = await tempDir('gguf-export');
      execFileSync('/usr/bin/python3', [join(ROOT, 'tools/train/export_gguf.py'), '--out', out], { stdio: 'ignore', timeout: 300_000 });
    }, 300_000);

    it('gives the committed seed-world files byte for byte', () => {
      for (const file of ['seed-world-f32.gguf', 'seed-world-q8_0.gguf']) expect(readFileSync(join(out, file)).equals(readFileSync(join(SEED_GGUF, file))), file).toBe(true);
    });

    it('tiny-shakespeare: the same tokens, the same top-1, probabilities within the GELU gap (F32) and 2e-2 (Q8_0)', async () => {
      const worst = await expectSameDistribution('tiny-shakespeare', join(out, 'tiny-shakespeare-f32.gguf'), join(out, 'tiny-shakespeare-q8_0.gguf'));
      console.log(`tiny-shakespeare: F32 max |Δp| ${worst.f32.toExponential(2)}, Q8_0 ${worst.q8.toExponential(2)}`);
    }, 120_000);
  });
});
