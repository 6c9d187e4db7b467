import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '../../src/engine/session';
import { loadOrt } from '../../src/node/ort-runtime';
import { loadBundled } from './load-model';
import { describeReference, maxAbsDiff } from './reference-checks';

let native: OnnxModel;
let wasm: OnnxModel;

beforeAll(async () => {
  native = await loadBundled(undefined, { ort: await loadOrt('native'), runtime: { backend: 'native', threads: 2 } });
  wasm = await loadBundled();
});
afterAll(async () => {
  await native.release();
  await wasm.release();
});

describe('seed-world on the native backend (onnxruntime-node)', () => {
  it('runs on the native backend with the threads asked for', () => {
    expect(native.backend).toBe('native');
    expect(native.threads).toBe(2);
    expect(native.hasCache).toBe(true);
  });

  describeReference('seed-world', () => native);

  it('gives the same logits, attention, embeddings and residual stream as wasm within 1e-4', async () => {
    const ids = native.tokenizer.encode('She rowed her boat down the river to the bank. At the bank she');
    const [a, b] = [await native.forward(ids), await wasm.forward(ids)];
    expect(a.lastLogits.length).toBe(b.lastLogits.length);
    expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThan(1e-4);
    expect(a.attention?.layers).toBe(b.attention?.layers);
    expect(a.attention?.layers).toBeGreaterThan(0);
    a.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, b.attention?.data[l] ?? [])).toBeLessThan(1e-4));
    expect(a.residual?.length).toBe(b.residual?.length);
    expect(a.residual?.length).toBeGreaterThan(0);
    a.residual?.forEach((stream, l) => {
      expect(stream.length).toBe(b.residual?.[l]?.length);
      expect(maxAbsDiff(stream, b.residual?.[l] ?? [])).toBeLessThan(1e-4);
    });
    a.residualMid?.forEach((stream, l) => expect(maxAbsDiff(stream, b.residualMid?.[l] ?? [])).toBeLessThan(1e-4));
    expect(maxAbsDiff(a.embeddings.sum ?? [], b.embeddings.sum ?? [])).toBeLessThan(1e-4);
  });

  it.each([['native'], ['wasm']])('hands out arrays on %s that own their buffers and outlive the next pass', async (name) => {
    const model = name === 'native' ? native : wasm;
    const a = await model.forward(model.tokenizer.encode('The sun rises in the'));
    const arrays = [a.lastLogits, ...(a.attention?.data ?? []), ...(a.residual ?? []), ...(a.residualMid ?? []), a.embeddings.token, a.embeddings.position, a.embeddings.sum].filter((x) => x !== null);
    expect(new Set(arrays.map((x) => x.buffer)).size).toBe(arrays.length);
    for (const x of arrays) expect(x.byteLength).toBe(x.buffer.byteLength);
    const before = arrays.map((x) => Array.from(x));
    await model.forward(model.tokenizer.encode('She took her money to the bank. At the bank she'));
    arrays.forEach((x, i) => expect(Array.from(x)).toEqual(before[i]));
  });

  it('generates on the key/value cache with the same logits as wasm, and batches columns', async () => {
    const ids = native.tokenizer.encode('The cat sat on the');
    for (let k = 0; k < 3; k++) {
      const [a, b] = [await native.nextLogits(ids), await wasm.nextLogits(ids)];
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
      let best = 0;
      for (let v = 1; v < a.length; v++) if ((a[v] ?? 0) > (a[best] ?? 0)) best = v;
      ids.push(best);
    }
    const rows = [ids, ids.map((id) => (id + 1) % native.config.vocabSize)];
    const [a, b] = [await native.forwardBatch(rows), await wasm.forwardBatch(rows)];
    a.lastLogits.forEach((row, r) => expect(maxAbsDiff(row, b.lastLogits[r] ?? [])).toBeLessThan(1e-4));
  });
});
