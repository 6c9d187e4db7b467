import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interventionMasks, parseHeadRef } from '../../src/engine/intervention';
import { softmax, topK } from '../../src/engine/sampling/distribution';
import type { OnnxModel, ForwardResult } from '../../src/engine/session';
import { loadFixtureModel, maxAbsDiff } from './fixture-models';
import { loadBundled } from './load-model';

let model: OnnxModel;
const PROMPT = 'The sun rises in the';
let ids: number[];
let plain: ForwardResult;

beforeAll(async () => {
  model = await loadBundled();
  ids = model.tokenizer.encode(PROMPT);
  plain = await model.forward(ids);
});
afterAll(async () => {
  await model.release();
});

/** Layer `layer`, head `head`, row `q` of a forward pass's attention. */
function row(result: ForwardResult, layer: number, head: number, q: number): number[] {
  const n = result.ids.length;
  const data = result.attention?.data[layer];
  if (!data) throw new Error('no attention');
  return Array.from(data.subarray((head * n + q) * n, (head * n + q + 1) * n));
}

describe('interventions on seed-world (an edited copy of the graph)', () => {
  it('a no-op mask leaves the logits and the attention equal within 1e-6', async () => {
    const same = await model.forwardEdited(ids, { ablateHeads: [], removeKeys: [] });
    expect(maxAbsDiff(same.lastLogits, plain.lastLogits)).toBeLessThan(1e-6);
    expect(topK(same.lastLogits, 1)[0]?.id).toBe(topK(plain.lastLogits, 1)[0]?.id);
    for (let l = 0; l < model.config.layers; l++) expect(maxAbsDiff(same.attention?.data[l] ?? [], plain.attention?.data[l] ?? [])).toBeLessThan(1e-6);
  });

  it('zeroing every head of a layer changes the prediction', async () => {
    // A prompt the model is unsure of: the bank sentence, " deposited" at 0.46 (on "The sun rises in
    // the" it is so sure of " east" that a layer's heads move it by less than 0.001).
    const bank = model.tokenizer.encode('She took her money to the bank. At the bank she');
    const base = await model.forward(bank, false);
    const before = topK(base.lastLogits, 1)[0];
    expect(model.tokenizer.piece(before?.id ?? -1).text).toBe(' deposited');
    const heads = model.config.heads;
    const moved: number[] = [];
    for (let layer = 0; layer < model.config.layers; layer++) {
      const edited = await model.forwardEdited(bank, { ablateHeads: Array.from({ length: heads }, (_, head) => ({ layer, head })) }, false);
      moved.push(Math.abs((softmax(edited.lastLogits)[before?.id ?? -1] ?? 0) - (before?.prob ?? 0)));
      expect(maxAbsDiff(edited.lastLogits, base.lastLogits)).toBeGreaterThan(0.1);
    }
    // The top token's probability moves by more than 0.01 whichever layer loses its heads (0.018, 0.118, 0.025 when written).
    for (const m of moved) expect(m).toBeGreaterThan(0.01);
    expect(Math.max(...moved)).toBeGreaterThan(0.1);
  });

  it('a switched-off head has zero weights everywhere; the other heads of its layer are unchanged, later layers change', async () => {
    const n = ids.length;
    const edited = await model.forwardEdited(ids, { ablateHeads: [{ layer: 1, head: 2 }] });
    for (let q = 0; q < n; q++) {
      expect(row(edited, 1, 2, q).every((w) => w === 0)).toBe(true);
      for (const h of [0, 1, 3]) expect(maxAbsDiff(row(edited, 1, h, q), row(plain, 1, h, q))).toBeLessThan(1e-6);
      // Layer 0 comes before the edit: every head as it was.
      for (let h = 0; h < model.config.heads; h++) expect(maxAbsDiff(row(edited, 0, h, q), row(plain, 0, h, q))).toBeLessThan(1e-6);
    }
    expect(maxAbsDiff(edited.attention?.data[2] ?? [], plain.attention?.data[2] ?? [])).toBeGreaterThan(1e-4);
  });

  it('removing a token from a position renormalises that row: the others keep their ratios and sum to 1', async () => {
    const n = ids.length;
    const q = n - 1;
    const edited = await model.forwardEdited(ids, { removeKeys: [{ query: q, key: 1, layers: [0] }] });
    for (let h = 0; h < model.config.heads; h++) {
      const before = row(plain, 0, h, q);
      const after = row(edited, 0, h, q);
      const rest = 1 - (before[1] ?? 0);
      const expected = before.map((w, k) => (k === 1 ? 0 : w / rest));
      expect(maxAbsDiff(after, expected)).toBeLessThan(1e-6);
      expect(Math.abs(after.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      // Other rows of layer 0 are untouched.
      expect(maxAbsDiff(row(edited, 0, h, q - 1), row(plain, 0, h, q - 1))).toBeLessThan(1e-6);
    }
    expect(maxAbsDiff(edited.lastLogits, plain.lastLogits)).toBeGreaterThan(1e-4);
  });

  it('refuses edits the model or the sequence cannot take, naming them', async () => {
    await expect(model.forwardEdited(ids, { ablateHeads: [{ layer: 3, head: 0 }] })).rejects.toThrow('head 3:0: the model has layers 0 to 2');
    await expect(model.forwardEdited(ids, { ablateHeads: [{ layer: 0, head: 4 }] })).rejects.toThrow('head 0:4: the model has heads 0 to 3 in each layer');
    await expect(model.forwardEdited(ids, { removeKeys: [{ query: 1, key: 2 }] })).rejects.toThrow('token 2 comes after position 1, which never attends to it');
    await expect(model.forwardEdited(ids, { removeKeys: [{ query: 0, key: 0 }] })).rejects.toThrow('position 0 would attend to nothing in layer 0');
    expect(() => interventionMasks({ ablateHeads: [], removeKeys: [{ query: 9, key: 0 }] }, 3, 4, 5)).toThrow('position 9: the sequence has positions 0 to 4');
    expect(parseHeadRef('2:3')).toEqual({ layer: 2, head: 3 });
    expect(() => parseHeadRef('2-3')).toThrow('expected LAYER:HEAD with 0-based numbers, e.g. 0:1, got "2-3"');
  });
});

describe('interventions on other graphs', () => {
  it('a Llama-style graph (RMSNorm, rotary, grouped-query attention): a no-op is equal, a head goes to zero', async () => {
    const llama = await loadFixtureModel('llama-tiny');
    try {
      const prompt = llama.tokenizer.encode('the cat sat');
      const base = await llama.forward(prompt);
      const same = await llama.forwardEdited(prompt, {});
      expect(maxAbsDiff(same.lastLogits, base.lastLogits)).toBeLessThan(1e-6);
      const off = await llama.forwardEdited(prompt, { ablateHeads: [{ layer: 0, head: 1 }] });
      expect(row(off, 0, 1, prompt.length - 1).every((w) => w === 0)).toBe(true);
      expect(maxAbsDiff(off.lastLogits, base.lastLogits)).toBeGreaterThan(1e-5);
    } finally {
      await llama.release();
    }
  });

  it('fused attention is edited on its recomputed weights (tests/engine/fused-attention.test.ts has the exact checks)', async () => {
    const fused = await loadFixtureModel('gpt-fused-attention');
    try {
      const ids = fused.tokenizer.encode('the cat');
      const edited = await fused.forwardEdited(ids, { ablateHeads: [{ layer: 0, head: 0 }] });
      expect(edited.attention?.data[0]?.subarray(0, ids.length * ids.length).every((p) => p === 0)).toBe(true);
    } finally {
      await fused.release();
    }
  });

});
