import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate';
import { topK } from '../../src/engine/sampling/distribution';
import type { OnnxModel } from '../../src/engine/session';
import { ROOT, loadBundled } from './load-model';
import { describeReference } from './reference-checks';

const DIR = join(ROOT, 'resources/models/tiny-shakespeare');
let model: OnnxModel;

beforeAll(async () => {
  model = await loadBundled(DIR);
});
afterAll(async () => {
  await model.release();
});

describe('tiny-shakespeare on the engine (Node, wasm)', () => {
  describeReference('tiny-shakespeare', () => model);

  it('records its corpus, split and validation loss in its card', () => {
    const card = JSON.parse(readFileSync(join(DIR, 'card.json'), 'utf8')) as {
      corpus: { file: string; bytes: number; sha256: string; split: { rule: string } };
      metrics: { validation_loss: number; validation_bits_per_byte: number };
      samples: { text: string; temperature: number }[];
    };
    expect(card.corpus).toMatchObject({ file: 'tinyshakespeare.txt', bytes: 1115394, sha256: '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed' });
    expect(card.corpus.split.rule).toContain('last 10%');
    expect(card.metrics.validation_loss).toBeGreaterThan(0);
    expect(card.samples.length).toBeGreaterThanOrEqual(3);
    for (const s of card.samples) expect(s.temperature).toBe(0.8);
  });

  it('has learned the layout of a play: a speaker in capitals after a blank line, a colon after the name', async () => {
    const next = async (prompt: string): Promise<string> => {
      const r = await model.forward(model.tokenizer.encode(prompt));
      return model.tokenizer.piece(topK(r.lastLogits, 1)[0]?.id ?? -1).text;
    };
    expect(await next('ROMEO:\nBut soft, what light through yonder window breaks?\n\n')).toMatch(/^[A-Z]/);
    expect(await next('First Citizen')).toMatch(/^:/);
  });

  it('generates the same tokens on the key/value cache as by recomputing', async () => {
    const ids = model.tokenizer.encode('ROMEO:\n');
    const strategy = { strategy: 'top-k', temperature: 0.8, topK: 40 } as const;
    const cached = await generate(model, ids, { strategy, seed: 11, maxTokens: 24 });
    const plain = await loadBundled(DIR, { cache: false });
    try {
      const recomputed = await generate(plain, ids, { strategy, seed: 11, maxTokens: 24 });
      expect(cached.steps.map((s) => s.id)).toEqual(recomputed.steps.map((s) => s.id));
      cached.steps.forEach((s, i) => expect(Math.abs(s.prob - (recomputed.steps[i]?.prob ?? NaN))).toBeLessThan(1e-4));
    } finally {
      await plain.release();
    }
    expect(model.hasCache).toBe(true);
  });
});
