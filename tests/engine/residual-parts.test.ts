import { describe, expect, it } from 'vitest';
import { blockWrites, rowNorms } from '../../src/engine/analysis';
import { loadFixtureModel, maxAbsDiff } from './fixture-models';
import { loadBundled } from './load-model';

describe('the residual stream inside each block (after attention, before the MLP)', () => {
  it('is found at the input of each block second norm: ln_2 in GPT-2 graphs, post_attention_layernorm in Llama', async () => {
    const seed = await loadBundled();
    const llama = await loadFixtureModel('llama-tiny');
    const decomposed = await loadFixtureModel('gpt-decomposed-ln');
    try {
      expect(seed.probes('residual-mid').map((p) => p.node)).toEqual([0, 1, 2].map((l) => `/h.${l}/ln_2/LayerNormalization`));
      expect(llama.probes('residual-mid').map((p) => p.node)).toEqual([0, 1].map((l) => `/layers.${l}/post_attention_layernorm/Pow`));
      expect(decomposed.probes('residual-mid').map((p) => p.node)).toEqual([0, 1].map((l) => `/h.${l}/ln_2/Sub`));
    } finally {
      await Promise.all([seed.release(), llama.release(), decomposed.release()]);
    }
  });

  it('Llama (no biases): with every head of layer 0 off, the attention writes nothing; with them on it writes', async () => {
    const llama = await loadFixtureModel('llama-tiny');
    try {
      const ids = llama.tokenizer.encode('the cat sat on');
      const n = ids.length;
      const dim = llama.config.hidden;
      const plain = await llama.forward(ids);
      const off = await llama.forwardEdited(ids, { ablateHeads: Array.from({ length: llama.config.heads }, (_, head) => ({ layer: 0, head })) });
      const writes = (r: typeof plain) => blockWrites(r.residual ?? [], r.residualMid, n, dim);
      expect(Math.min(...(writes(plain).attention?.[0] ?? [0]))).toBeGreaterThan(1e-3);
      expect(Math.max(...(writes(off).attention?.[0] ?? [1]))).toBeLessThan(1e-6);
      // The stream entering block 0 is the same either way; the MLP still writes.
      expect(maxAbsDiff(off.residual?.[0] ?? [], plain.residual?.[0] ?? [])).toBe(0);
      expect(Math.min(...(writes(off).mlp?.[0] ?? [0]))).toBeGreaterThan(1e-3);
    } finally {
      await llama.release();
    }
  });

  it('seed-world: a switched-off layer still writes its output projection bias, the same vector at every position', async () => {
    const seed = await loadBundled();
    try {
      const ids = seed.tokenizer.encode('The sun rises in the');
      const n = ids.length;
      const dim = seed.config.hidden;
      const off = await seed.forwardEdited(ids, { ablateHeads: Array.from({ length: seed.config.heads }, (_, head) => ({ layer: 1, head })) });
      const mid = off.residualMid?.[1];
      const entering = off.residual?.[1];
      if (!mid || !entering) throw new Error('no streams');
      const written = Array.from(mid, (v, i) => v - (entering[i] ?? 0));
      for (let p = 1; p < n; p++) expect(maxAbsDiff(written.slice(p * dim, (p + 1) * dim), written.slice(0, dim))).toBeLessThan(1e-5);
      const plain = await seed.forward(ids);
      const w = blockWrites(plain.residual ?? [], plain.residualMid, n, dim);
      expect(w.stream).toHaveLength(4);
      expect(w.attention).toHaveLength(3);
      expect(w.mlp).toHaveLength(3);
    } finally {
      await seed.release();
    }
  });

  it('rowNorms: of rows, and of the difference of two matrices', () => {
    expect(rowNorms([3, 4, 0, 0], 2, 2)).toEqual([5, 0]);
    expect(rowNorms([3, 4, 1, 1], 2, 2, [0, 0, 1, 1])).toEqual([5, 0]);
  });
});
