import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate';
import { softmax, topK } from '../../src/engine/sampling/distribution';
import type { EngineModel } from '../../src/engine/session';
import { fixture, loadBundled } from './load-model';

interface Reference {
  prompts: { prompt: string; ids: number[]; tokens: string[]; top: { id: number; token: string; logit: number; prob: number }[] }[];
  details: {
    prompt: string;
    ids: number[];
    attention: number[][][][];
    embeddings: { positions: number[]; token: number[][]; position: number[][]; sum: number[][] };
  };
}

interface TokenizerCases {
  cases: { text: string; ids: number[] }[];
}

const reference = fixture<Reference>('seed-world-reference.json');
let model: EngineModel;

beforeAll(async () => {
  model = await loadBundled();
});
afterAll(async () => {
  await model.release();
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
};

describe('seed-world on the engine (Node, wasm)', () => {
  it('finds what the cells need in the graph', () => {
    const roles = model.plan.probes.map((p) => p.role);
    expect(roles.filter((r) => r === 'attention')).toHaveLength(model.config.layers);
    expect(roles).toEqual(expect.arrayContaining(['token-embedding', 'position-embedding', 'embedding-sum']));
  });

  it('tokenizes exactly as the tokenizer trainer did', () => {
    const { cases } = fixture<TokenizerCases>('seed-world-tokenizer.json');
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) {
      expect(model.tokenizer.encode(c.text), c.text).toEqual(c.ids);
      expect(model.tokenizer.decode(c.ids)).toBe(c.text);
    }
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('matches PyTorch logits for %j', async (_, ref) => {
    expect(model.tokenizer.encode(ref.prompt)).toEqual(ref.ids);
    const result = await model.forward(ref.ids);
    const top = topK(result.lastLogits, ref.top.length);
    expect(top.map((t) => t.id)).toEqual(ref.top.map((t) => t.id));
    top.forEach((t, i) => {
      expect(Math.abs(t.logit - (ref.top[i]?.logit ?? NaN))).toBeLessThan(1e-4);
      expect(Math.abs(t.prob - (ref.top[i]?.prob ?? NaN))).toBeLessThan(1e-5);
    });
    expect(ref.top.map((t) => model.tokenizer.piece(t.id).text)).toEqual(ref.top.map((t) => t.token));
  });

  it('matches PyTorch attention and embeddings; attention is causal and rows sum to 1', async () => {
    const d = reference.details;
    const result = await model.forward(d.ids);
    const n = d.ids.length;
    const attention = result.attention;
    expect(attention?.layers).toBe(d.attention.length);
    for (let layer = 0; layer < d.attention.length; layer++) {
      const data = attention?.data[layer] ?? new Float32Array();
      const heads = d.attention[layer] ?? [];
      expect(data.length).toBe(heads.length * n * n);
      heads.forEach((rows, h) => {
        rows.forEach((row, q) => {
          const got = data.subarray((h * n + q) * n, (h * n + q + 1) * n);
          expect(maxAbsDiff(got, row)).toBeLessThan(1e-4);
          expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          for (let k = q + 1; k < n; k++) expect(got[k]).toBe(0);
        });
      });
    }
    const dim = result.embeddings.dim;
    d.embeddings.positions.forEach((pos, i) => {
      for (const [name, values] of [
        ['token', result.embeddings.token],
        ['position', result.embeddings.position],
        ['sum', result.embeddings.sum],
      ] as const) {
        const want = d.embeddings[name][i] ?? [];
        expect(maxAbsDiff(values?.subarray(pos * dim, (pos + 1) * dim) ?? [], want), name).toBeLessThan(1e-5);
      }
    });
  });

  it('knows the seed facts: east, west, and which bank', async () => {
    const top1 = async (prompt: string): Promise<{ token: string; prob: number }> => {
      const r = await model.forward(model.tokenizer.encode(prompt));
      const p = softmax(r.lastLogits);
      const best = topK(r.lastLogits, 1)[0]?.id ?? -1;
      return { token: model.tokenizer.piece(best).text, prob: p[best] ?? 0 };
    };
    expect((await top1('The sun rises in the')).token).toBe(' east');
    expect((await top1('The sun sets in the')).token).toBe(' west');
    // A minimal pair: the same last sentence, only the context before it differs.
    const money = await top1('She took her money to the bank. At the bank she');
    const river = await top1('She rowed her boat down the river to the bank. At the bank she');
    expect(money.token).toBe(' deposited');
    expect(river.token).toBe(' sat');
  });

  it('generates the same tokens from the same seed, and stops at the context', async () => {
    const ids = model.tokenizer.encode('The cat sat on the');
    const strategy = { strategy: 'top-p', temperature: 1, topP: 0.95 } as const;
    const a = await generate(model, ids, { strategy, seed: 5, maxTokens: 8 });
    const b = await generate(model, ids, { strategy, seed: 5, maxTokens: 8 });
    expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
    expect(a.steps.length).toBeGreaterThan(0);
    for (const s of a.steps) expect(s.rank).toBeGreaterThanOrEqual(1);
    const greedy = await generate(model, model.tokenizer.encode('The sun rises in the'), { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 1 });
    expect(greedy.steps[0]?.token).toBe(' east');
    expect(greedy.steps[0]?.rank).toBe(1);
    const long = Array.from({ length: model.config.context - 2 }, () => ids[0] ?? 0);
    const full = await generate(model, long, { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 10 });
    expect(full.stopReason === 'context-full' || full.stopReason === 'end-of-text').toBe(true);
    expect(full.ids.length).toBeLessThanOrEqual(model.config.context);
  });

  it('refuses a sequence longer than the context with the reason', async () => {
    const long = Array.from({ length: model.config.context + 1 }, () => 1);
    await expect(model.forward(long)).rejects.toThrow(`exceed the model's context of ${model.config.context}`);
  });
});
