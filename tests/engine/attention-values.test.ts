import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { weightedSum } from '../../src/engine/analysis';
import { addGraphOutputs } from '../../src/engine/onnx-edit';
import { decodeModel } from '../../src/engine/onnx-decode';
import type { OnnxModel } from '../../src/engine/session';
import { loadFixtureModel } from './fixture-models';
import { loadBundled, SEED_WORLD } from './load-model';

/** The graph's own probs · V product for one layer, read by adding the MatMul's output as a graph output. */
async function matmulOutput(onnxPath: string, model: OnnxModel, ids: number[], layer: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const bytes = new Uint8Array(readFileSync(onnxPath));
  const probe = model.probes('attention-values').find((p) => p.layer === layer);
  const node = decodeModel(bytes).nodes.find((n) => n.name === probe?.node);
  const output = node?.outputs[0];
  if (!output) throw new Error('no probs · V MatMul');
  const session = await ort.InferenceSession.create(addGraphOutputs(bytes, [output]), { executionProviders: ['wasm'] });
  try {
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]) };
    for (const input of model.plan.inputs) {
      if (input.name === 'attention_mask') feeds[input.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => 1n), [1, n]);
      if (input.name === 'position_ids') feeds[input.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), [1, n]);
    }
    const out = await session.run(feeds, [output]);
    const t = out[output];
    if (!t) throw new Error('no output');
    return { data: new Float32Array(t.data as Float32Array), dims: t.dims };
  } finally {
    await session.release();
  }
}

describe('the weighted sum made concrete: value vectors', () => {
  it('seed-world: Σ_k weight(q, k) · value(k) equals the graph’s own attention output, for every layer, head and query', async () => {
    const model = await loadBundled();
    try {
      const ids = model.tokenizer.encode('The sun rises in the');
      const n = ids.length;
      const r = await model.forward(ids);
      const att = r.attention;
      const values = att?.values;
      if (!att || !values) throw new Error('no values');
      expect(values.heads).toBe(4);
      expect(values.headDim).toBe(32);
      for (let layer = 0; layer < att.layers; layer++) {
        const graph = await matmulOutput(join(SEED_WORLD, 'onnx/model.onnx'), model, ids, layer);
        expect(graph.dims).toEqual([1, 4, n, 32]);
        for (let head = 0; head < att.heads; head++) {
          for (let q = 0; q < n; q++) {
            const sum = weightedSum(att.data[layer] ?? new Float32Array(), values.data[layer] ?? new Float32Array(), n, head, head, values.headDim, q);
            const want = graph.data.subarray(((head * n) + q) * 32, ((head * n) + q + 1) * 32);
            const err = Math.max(...sum.total.map((v, d) => Math.abs(v - (want[d] ?? 0))));
            expect(err).toBeLessThan(1e-5);
            // Each earlier token's part, weight × value: they add up to the output.
            expect(sum.parts).toHaveLength(q + 1);
          }
        }
      }
    } finally {
      await model.release();
    }
  });

  it('Llama (grouped-query attention): the values of the shared key/value head, or the repeated ones', async () => {
    const llama = await loadFixtureModel('llama-tiny');
    try {
      const r = await llama.forward(llama.tokenizer.encode('the cat sat'));
      const values = r.attention?.values;
      expect(values).not.toBeNull();
      expect((r.attention?.heads ?? 0) % (values?.heads ?? 1)).toBe(0);
    } finally {
      await llama.release();
    }
  });
});
