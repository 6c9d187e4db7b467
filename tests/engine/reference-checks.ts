import { expect, it } from 'vitest';
import { topK } from '../../src/engine/sampling/distribution';
import type { OnnxModel } from '../../src/engine/session';
import { fixture } from './load-model';

/** The PyTorch values tools/train/train.py writes for a bundled model (tests/fixtures/<id>-reference.json). */
export interface Reference {
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

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
};

/**
 * The checks every bundled model passes against the values its training run computed in PyTorch:
 * token ids, top-10 logits, attention rows (causal, summing to 1) and embeddings.
 */
export function describeReference(id: string, model: () => OnnxModel): void {
  const reference = fixture<Reference>(`${id}-reference.json`);

  it('finds what the cells need in the graph', () => {
    const roles = model().plan.probes.map((p) => p.role);
    expect(roles.filter((r) => r === 'attention')).toHaveLength(model().config.layers);
    expect(roles).toEqual(expect.arrayContaining(['token-embedding', 'position-embedding', 'embedding-sum']));
  });

  it('tokenizes exactly as the tokenizer trainer did', () => {
    const { cases } = fixture<TokenizerCases>(`${id}-tokenizer.json`);
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) {
      expect(model().tokenizer.encode(c.text), c.text).toEqual(c.ids);
      expect(model().tokenizer.decode(c.ids)).toBe(c.text);
    }
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('matches PyTorch logits for %j', async (_, ref) => {
    expect(model().tokenizer.encode(ref.prompt)).toEqual(ref.ids);
    const result = await model().forward(ref.ids);
    const top = topK(result.lastLogits, ref.top.length);
    expect(top.map((t) => t.id)).toEqual(ref.top.map((t) => t.id));
    top.forEach((t, i) => {
      expect(Math.abs(t.logit - (ref.top[i]?.logit ?? NaN))).toBeLessThan(1e-4);
      expect(Math.abs(t.prob - (ref.top[i]?.prob ?? NaN))).toBeLessThan(1e-5);
    });
    expect(ref.top.map((t) => model().tokenizer.piece(t.id).text)).toEqual(ref.top.map((t) => t.token));
  });

  it('matches PyTorch attention and embeddings; attention is causal and rows sum to 1', async () => {
    const d = reference.details;
    const result = await model().forward(d.ids);
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
}
