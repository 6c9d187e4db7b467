import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate';
import type { OnnxModel } from '../../src/engine/session';
import { loadBundled } from './load-model';

let cached: OnnxModel;
let plain: OnnxModel;
beforeAll(async () => {
  cached = await loadBundled(undefined, { cache: true });
  plain = await loadBundled(undefined, { cache: false });
});
afterAll(async () => {
  await cached.release();
  await plain.release();
});

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? 0))), 0);

describe('generation on the key/value cache (seed-world)', () => {
  it('loads the cache graph bundled beside model.onnx', () => {
    expect(cached.hasCache).toBe(true);
    expect(cached.cacheNote).toBeNull();
    expect(plain.hasCache).toBe(false);
  });

  it('gives the logits of a full forward pass, token by token and on a branch', async () => {
    const ids = cached.tokenizer.encode('The sun rises in the east. The cat sat on the mat. She took her money to the bank.');
    expect(ids.length).toBeGreaterThan(20);
    for (let n = 3; n <= ids.length; n++) {
      const prefix = ids.slice(0, n);
      expect(maxDiff(await cached.nextLogits(prefix), (await plain.forward(prefix, false)).lastLogits)).toBeLessThan(1e-4);
    }
    // A branch from an earlier prefix continues that prefix's cache, not the longer sequence's.
    const branch = [...ids.slice(0, 6), 13, 268];
    expect(maxDiff(await cached.nextLogits(branch), (await plain.forward(branch, false)).lastLogits)).toBeLessThan(1e-4);
  });

  it('generates exactly the tokens of recomputation, greedy and seeded top-p', async () => {
    const ids = cached.tokenizer.encode('The cat sat on the');
    for (const strategy of [{ strategy: 'greedy' }, { strategy: 'top-p', temperature: 1.1, topP: 0.9 }] as const) {
      const a = await generate(cached, ids, { strategy, seed: 9, maxTokens: 30 });
      const b = await generate(plain, ids, { strategy, seed: 9, maxTokens: 30 });
      expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
      expect(a.steps.length).toBeGreaterThan(10);
      expect(a.stopReason).toBe(b.stopReason);
    }
  });

  it('steps 4 columns in one pass of the cache graph, each on its own cache: the logits of recomputation', async () => {
    const starts = ['The sun rises in the', 'The cat sat on the', 'She took her money to', 'The moon rose over the'].map((t) => cached.tokenizer.encode(t));
    const n = Math.min(...starts.map((s) => s.length));
    const rows = starts.map((s, r) => [...s.slice(0, n - 1), s[n - 1] ?? r]);
    for (let step = 0; step < 4; step++) {
      const batched = await cached.nextLogitsBatch(rows);
      const reference = await plain.forwardBatch(rows);
      expect(batched.lastLogits).toHaveLength(4);
      rows.forEach((_, r) => expect(maxDiff(batched.lastLogits[r] ?? new Float32Array(), reference.lastLogits[r] ?? new Float32Array())).toBeLessThan(1e-4));
      // Each column takes its own most likely token: the columns part ways, each on its own cache.
      rows.forEach((row, r) => {
        const logits = batched.lastLogits[r] ?? new Float32Array();
        row.push(logits.indexOf(Math.max(...logits)));
      });
    }
    // Rows whose cached prefixes differ in length (here one has none) share the shortest: all from the start.
    const first = rows[0]?.slice(0, -1) ?? [];
    const unseen = Array.from({ length: first.length }, (_, i) => 300 + i);
    const mixed = [first, unseen];
    const fallback = await cached.nextLogitsBatch(mixed);
    const mixedReference = await plain.forwardBatch(mixed);
    for (const r of [0, 1]) expect(maxDiff(fallback.lastLogits[r] ?? new Float32Array(), mixedReference.lastLogits[r] ?? new Float32Array())).toBeLessThan(1e-4);
    // One row a step behind the others: the caches are cut to the shorter prefix.
    const behind = [[...(rows[2] ?? []), 5], [...(rows[3] ?? []).slice(0, -2), 9, 5, 6]];
    const cut = await cached.nextLogitsBatch(behind);
    const cutReference = await plain.forwardBatch(behind);
    for (const r of [0, 1]) expect(maxDiff(cut.lastLogits[r] ?? new Float32Array(), cutReference.lastLogits[r] ?? new Float32Array())).toBeLessThan(1e-4);
  });
});
