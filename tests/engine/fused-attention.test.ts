import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFusedAttention, withoutRecompute } from '../../src/engine/fused-attention';
import { addGraphOutputs } from '../../src/engine/onnx-edit';
import { type GraphNode } from '../../src/engine/onnx-decode';
import onnxProto from 'onnx-proto';
import { OnnxModel, type BackendName, type ForwardResult, type OrtModule } from '../../src/engine/session';
import { supportedViews } from '../../src/engine/supported-views';
import { loadOrt } from '../../src/node/ort-runtime';
import { loadBundled, ROOT } from './load-model';
import { maxAbsDiff } from './reference-checks';

/**
 * Issue 15: the weights of fused attention operators, recomputed inside the graph, against the same
 * weights written with decomposed attention (tools/fixtures/build_fused_llama_fixtures.py).
 */
const MODELS = join(ROOT, 'tests/fixtures/models');
const TOLERANCE = 1e-5;
const PROMPTS = ['The sun rises in the', 'The cat sat on the mat and the dog'];

const CASES = [
  { fused: 'llama-fused-gqa', twin: 'llama-fused-decomposed', op: 'GroupQueryAttention', kvHeads: 2, cache: true },
  { fused: 'llama-fused-gqa-packed', twin: 'llama-fused-decomposed-capped', op: 'GroupQueryAttention', kvHeads: 2, cache: false },
  { fused: 'llama-fused-mha', twin: 'llama-fused-decomposed', op: 'MultiHeadAttention', kvHeads: 8, cache: false },
  { fused: 'llama-fused-attention23', twin: 'llama-fused-decomposed', op: 'Attention', kvHeads: 2, cache: false },
] as const;

const BACKENDS: { name: BackendName; ort: () => Promise<OrtModule> }[] = [
  { name: 'wasm', ort: async () => ortWeb },
  { name: 'native', ort: async () => loadOrt('native') },
];

const loaded = new Map<string, OnnxModel>();
async function model(name: string, backend: (typeof BACKENDS)[number]): Promise<OnnxModel> {
  const key = `${name}/${backend.name}`;
  let m = loaded.get(key);
  if (!m) {
    m = await loadBundled(join(MODELS, name), { ort: await backend.ort(), runtime: { backend: backend.name, threads: 1 } });
    loaded.set(key, m);
  }
  return m;
}
afterAll(async () => {
  for (const m of loaded.values()) await m.release();
});

/** The fused operators' own outputs for `ids`, from a plain session of the file with those tensors added as outputs. */
async function operatorOutputs(ort: OrtModule, name: string | Uint8Array, outputs: string[], ids: number[]): Promise<Float32Array[]> {
  const file = typeof name === 'string' ? new Uint8Array(readFileSync(join(MODELS, name, 'onnx/model.onnx'))) : name;
  const bytes = addGraphOutputs(file, outputs);
  const session = await ort.InferenceSession.create(bytes);
  const n = ids.length;
  const int64 = (values: number[]): ortWeb.Tensor => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
  const feeds: Record<string, ortWeb.Tensor> = {};
  for (const input of session.inputNames) {
    if (input === 'input_ids') feeds[input] = int64(ids);
    else if (input === 'attention_mask') feeds[input] = int64(ids.map(() => 1));
    else if (input === 'position_ids') feeds[input] = int64(ids.map((_, i) => i));
    else feeds[input] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
  }
  const out = await session.run(feeds, outputs);
  const result = outputs.map((o) => Float32Array.from(out[o]?.data as Float32Array));
  await session.release();
  expect(result.every((r) => r.length === n * 8 * 16)).toBe(true);
  return result;
}

/** Σ_k p[h, q, k] · v[h / group, k, :], laid out as the operator's output [n, heads · d]. */
function weightedSum(result: ForwardResult, layer: number): Float32Array {
  const att = result.attention;
  const probs = att?.data[layer];
  const values = att?.values;
  const v = values?.data[layer];
  if (!att || !probs || !values || !v) throw new Error('no attention or values');
  const n = result.ids.length;
  const { heads } = att;
  const d = values.headDim;
  const group = heads / values.heads;
  const out = new Float32Array(n * heads * d);
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < n; q++)
      for (let k = 0; k < n; k++) {
        const p = probs[(h * n + q) * n + k] ?? 0;
        for (let i = 0; i < d; i++) {
          const at = q * heads * d + h * d + i;
          out[at] = (out[at] ?? 0) + p * (v[(Math.floor(h / group) * n + k) * d + i] ?? 0);
        }
      }
  return out;
}

describe.each(BACKENDS.map((b) => [b.name, b] as const))('fused attention recomputed on %s', (_, backend) => {
  describe.each(CASES.map((c) => [c.fused, c] as const))('%s', (_name, c) => {
    let fused: OnnxModel;
    let twin: OnnxModel;
    beforeAll(async () => {
      fused = await model(c.fused, backend);
      twin = await model(c.twin, backend);
    });

    it('plans the recomputation and says so in the attention view', () => {
      expect(fused.plan.fusedRecompute).toMatchObject({ ok: true, ops: [c.op] });
      expect(fused.probes('attention')).toHaveLength(2);
      // The tensors it adds are named by the hook points they are.
      expect(fused.probes('attention').map((p) => [p.tensor, p.hook])).toEqual([0, 1].map((l) => [`ntl_fused/blocks.${l}.attn.hook_pattern`, `blocks.${l}.attn.hook_pattern`]));
      expect(fused.probes('attention-values').map((p) => p.tensor)).toEqual(['ntl_fused/blocks.0.attn.hook_v', 'ntl_fused/blocks.1.attn.hook_v']);
      expect(supportedViews(fused.plan).attention).toEqual({
        ok: true,
        note: `attention weights recomputed from ${c.op}'s Q and K (the fused operator never outputs them)${c.kvHeads < 8 ? '; grouped-query attention: each key/value head is shared by 4 query heads; the weights are shown per query head' : ''}`,
      });
    });

    it.each(PROMPTS)('equals the decomposed graph within 1e-5 for %j: logits, every weight; rows sum to 1', async (prompt) => {
      const ids = fused.tokenizer.encode(prompt);
      const [a, b] = [await fused.forward(ids), await twin.forward(ids)];
      expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThan(TOLERANCE);
      expect(a.attention).toMatchObject({ layers: 2, heads: 8, kvHeads: c.kvHeads });
      expect(a.attention?.values).toMatchObject({ heads: c.kvHeads, headDim: 16 });
      const n = ids.length;
      a.attention?.data.forEach((layer, l) => {
        expect(layer.length).toBe(8 * n * n);
        expect(maxAbsDiff(layer, b.attention?.data[l] ?? [])).toBeLessThan(TOLERANCE);
        for (let row = 0; row < 8 * n; row++) {
          const sum = layer.subarray(row * n, (row + 1) * n).reduce((s, p) => s + p, 0);
          expect(Math.abs(sum - 1)).toBeLessThan(TOLERANCE);
        }
      });
      expect(maxAbsDiff(a.residual?.[2] ?? [], b.residual?.[2] ?? [1])).toBeLessThan(1e-4);
    });

    it('gives a weighted sum equal to the operator\'s own output within 1e-5', async () => {
      const ids = fused.tokenizer.encode(PROMPTS[1] ?? '');
      const result = await fused.forward(ids);
      const layers = fused.plan.fusedRecompute?.ok ? fused.plan.fusedRecompute.layers : [];
      const own = await operatorOutputs(await backend.ort(), c.fused, layers.map((l) => l.output), ids);
      own.forEach((out, l) => expect(maxAbsDiff(weightedSum(result, l), out)).toBeLessThan(TOLERANCE));
    });

    it('switches a head off as the decomposed graph does with that head\'s weights zeroed', async () => {
      const ids = fused.tokenizer.encode(PROMPTS[1] ?? '');
      const edit = { ablateHeads: [{ layer: 0, head: 3 }, { layer: 1, head: 6 }] };
      const [a, b] = [await fused.forwardEdited(ids, edit), await twin.forwardEdited(ids, edit)];
      const plain = await fused.forward(ids);
      expect(maxAbsDiff(a.lastLogits, plain.lastLogits)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThan(TOLERANCE);
      a.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, b.attention?.data[l] ?? [])).toBeLessThan(TOLERANCE));
      const n = ids.length;
      expect(a.attention?.data[0]?.subarray(3 * n * n, 4 * n * n).every((p) => p === 0)).toBe(true);
    });

    it('takes a token out of a row in the decomposed form, as the decomposed graph does', async () => {
      const ids = fused.tokenizer.encode(PROMPTS[1] ?? '');
      const n = ids.length;
      const edit = { removeKeys: [{ query: n - 1, key: n - 2 }, { query: n - 1, key: 0, layers: [1] }] };
      const [a, b] = [await fused.forwardEdited(ids, edit), await twin.forwardEdited(ids, edit)];
      expect(maxAbsDiff(a.lastLogits, (await fused.forward(ids)).lastLogits)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThan(TOLERANCE);
      a.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, b.attention?.data[l] ?? [])).toBeLessThan(TOLERANCE));
      // A no-op edit leaves the fused operator's own output: the same logits as the plain pass, bit for bit.
      expect(maxAbsDiff((await fused.forwardEdited(ids, {})).lastLogits, (await fused.forward(ids)).lastLogits)).toBe(0);
    });

    it('generates as the decomposed graph does, on the fused operator\'s own path', async () => {
      expect(fused.hasCache).toBe(c.cache);
      let ids = fused.tokenizer.encode(PROMPTS[0] ?? '');
      for (let step = 0; step < 6; step++) {
        const [a, b] = [await fused.nextLogits(ids), await twin.forward(ids, false)];
        expect(maxAbsDiff(a, b.lastLogits)).toBeLessThan(1e-4);
        let best = 0;
        b.lastLogits.forEach((v, i) => {
          if (v > (b.lastLogits[best] ?? -Infinity)) best = i;
        });
        ids = [...ids, best];
      }
    });
  });
});

describe.each(BACKENDS.map((b) => [b.name, b] as const))('a fused model too large for a second session, on %s', (_, backend) => {
  it('generates on the instrumented session, the recomputation running over the cache, as the decomposed graph does', async () => {
    const limit = OnnxModel.plainSessionMaxBytes;
    OnnxModel.plainSessionMaxBytes = 0;
    let fused: OnnxModel | null = null;
    try {
      fused = await loadBundled(join(MODELS, 'llama-fused-gqa'), { ort: await backend.ort(), runtime: { backend: backend.name, threads: 1 } });
    } finally {
      OnnxModel.plainSessionMaxBytes = limit;
    }
    try {
      const twin = await model('llama-fused-decomposed', backend);
      expect(fused.hasCache).toBe(true);
      expect(fused.cacheFile).toBe('llama-fused-gqa/onnx/model.onnx');
      let ids = fused.tokenizer.encode(PROMPTS[0] ?? '');
      for (let step = 0; step < 6; step++) {
        const [a, b] = [await fused.nextLogits(ids), await twin.forward(ids, false)];
        expect(maxAbsDiff(a, b.lastLogits)).toBeLessThan(1e-4);
        ids = [...ids, b.lastLogits.indexOf(Math.max(...b.lastLogits))];
      }
      const [a, b] = [await fused.forward(ids), await twin.forward(ids)];
      a.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, b.attention?.data[l] ?? [])).toBeLessThan(TOLERANCE));
    } finally {
      await fused.release();
    }
  });
});

describe('configurations the recomputation does not cover: refused, naming the operator and the attribute or input', () => {
  const node = (opType: string, inputs: string[], attributes: Record<string, number>, domain = 'com.microsoft'): GraphNode => ({
    name: opType,
    opType,
    domain,
    inputs,
    outputs: ['out'],
    attributes,
  });
  const gqa = ['q', 'k', 'v', 'pk', 'pv', 'seqlens', 'total'];
  it.each([
    [node('GroupQueryAttention', gqa, { num_heads: 8, kv_num_heads: 2, smooth_softmax: 1 }), 'GroupQueryAttention: smooth_softmax=1 is not recomputed'],
    [node('GroupQueryAttention', [...gqa, '', '', '', 'bias'], { num_heads: 8, kv_num_heads: 2 }), 'GroupQueryAttention: its input "attention_bias" is not recomputed'],
    [node('GroupQueryAttention', gqa, { num_heads: 8, kv_num_heads: 2, do_rotary: 1 }), 'GroupQueryAttention: do_rotary=1 without cos_cache and sin_cache inputs'],
    [node('GroupQueryAttention', gqa, { num_heads: 8, kv_num_heads: 3 }), 'GroupQueryAttention: num_heads=8 is not a multiple of kv_num_heads=3'],
    [node('MultiHeadAttention', ['qkv'], { num_heads: 8 }), 'MultiHeadAttention: packed QKV (no key and value inputs) is not recomputed'],
    [node('MultiHeadAttention', ['q', 'k', 'v', '', 'pad'], { num_heads: 8 }), 'MultiHeadAttention: its input "key_padding_mask" is not recomputed'],
    [node('Attention', ['x', 'w', 'b', 'mask'], { num_heads: 4 }), 'Attention: its input "mask_index" is not recomputed'],
    [node('Attention', ['x', 'w', 'b'], { num_heads: 4, do_rotary: 1 }), 'Attention: do_rotary=1 is not recomputed'],
    [node('Attention', ['q', 'k', 'v'], {}, ''), 'Attention (ONNX): 4-D Q, K and V (no q_num_heads and kv_num_heads attributes) are not recomputed'],
    [node('Attention', ['q', 'k', 'v', 'mask'], { q_num_heads: 8, kv_num_heads: 2 }, ''), 'Attention (ONNX): its input "attn_mask" is not recomputed'],
    [node('Attention', ['q', 'k', 'v'], { q_num_heads: 8, kv_num_heads: 2, softcap: 30 }, ''), 'Attention (ONNX): softcap=30 is not recomputed'],
    [node('PackedAttention', ['x', 'w'], { num_heads: 4 }), 'com.microsoft.PackedAttention is not recomputed'],
  ])('%#: %s', (n, reason) => {
    expect(planFusedAttention([n])).toEqual({ ok: false, reason });
  });

  it('a graph that does not load with the recomputation runs without it, saying why', async () => {
    const m = await model('llama-fused-gqa', BACKENDS[0] ?? { name: 'wasm', ort: async () => ortWeb });
    const plan = withoutRecompute(m.plan, 'the graph with the recomputation could not be loaded: (cause)');
    expect(plan.probes.filter((p) => p.role === 'attention' || p.role === 'attention-values')).toEqual([]);
    expect(plan.probes.filter((p) => p.role === 'residual')).toHaveLength(3);
    expect(supportedViews(plan).attention).toEqual({
      ok: false,
      reason:
        'attention is fused into com.microsoft.GroupQueryAttention; its weights are never materialised and are not recomputed (the graph with the recomputation could not be loaded: (cause)), so they cannot be shown',
    });
  });
});

type ModelProto = onnxProto.onnx.ModelProto;
function graphOf(model: ModelProto): onnxProto.onnx.IGraphProto & { input: onnxProto.onnx.IValueInfoProto[]; initializer: onnxProto.onnx.ITensorProto[]; node: onnxProto.onnx.INodeProto[] } {
  const graph = model.graph;
  if (!graph) throw new Error('no graph');
  graph.input ??= [];
  graph.initializer ??= [];
  graph.node ??= [];
  return { ...graph, input: graph.input, initializer: graph.initializer, node: graph.node };
}
const INT = onnxProto.onnx.AttributeProto.AttributeType.INT;
const FLOAT = onnxProto.onnx.AttributeProto.AttributeType.FLOAT;

/** Fixtures with their fused operators changed in ways a decomposed twin is not written for: checked against the operator's own output. */
const VARIANTS: { name: string; fixture: string; op: string; edit: (node: onnxProto.onnx.INodeProto, model: ModelProto) => void }[] = [
  {
    name: 'GroupQueryAttention: interleaved rotary, softcap 1.5 and a window of 4 at once',
    fixture: 'llama-fused-gqa',
    op: 'GroupQueryAttention',
    edit: (node) => {
      node.attribute = (node.attribute ?? []).filter((a) => a.name !== 'rotary_interleaved');
      node.attribute.push({ name: 'rotary_interleaved', type: INT, i: 1 }, { name: 'softcap', type: FLOAT, f: 1.5 }, { name: 'local_window_size', type: INT, i: 4 });
    },
  },
  {
    name: 'GroupQueryAttention: rotary at a position_ids input',
    fixture: 'llama-fused-gqa',
    op: 'GroupQueryAttention',
    edit: (node, model) => {
      const graph = graphOf(model);
      if (!graph.input.some((i) => i.name === 'position_ids')) {
        const dim = [{ dimParam: 'batch' }, { dimParam: 'sequence' }];
        graph.input.push(onnxProto.onnx.ValueInfoProto.create({ name: 'position_ids', type: { tensorType: { elemType: 7, shape: { dim } } } }));
      }
      node.input = [...(node.input ?? []), '', '', '', '', '', '', '', '', '', ''].slice(0, 9).concat('position_ids');
    },
  },
  {
    name: 'MultiHeadAttention: a bias for Q, K and V',
    fixture: 'llama-fused-mha',
    op: 'MultiHeadAttention',
    edit: (node, model) => {
      const name = 'test_qkv_bias';
      const { initializer } = graphOf(model);
      if (!initializer.some((t) => t.name === name)) {
        const floatData = Array.from({ length: 3 * 128 }, (_, i) => 0.5 * Math.sin(i));
        initializer.push(onnxProto.onnx.TensorProto.create({ name, dataType: 1, dims: [3 * 128], floatData }));
      }
      const [query = '', key = '', value = ''] = node.input ?? [];
      node.input = [query, key, value, name];
    },
  },
];

describe.each(BACKENDS.map((b) => [b.name, b] as const))('fused operator variants checked against the operator itself on %s', (_, backend) => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))('%s: the weighted sum equals the operator\'s output within 1e-5, rows sum to 1', async (_name, v) => {
    const model = onnxProto.onnx.ModelProto.decode(readFileSync(join(MODELS, v.fixture, 'onnx/model.onnx')));
    for (const node of graphOf(model).node) if (node.opType === v.op) v.edit(node, model);
    const bytes = onnxProto.onnx.ModelProto.encode(model).finish();
    const dir = join(MODELS, v.fixture);
    const json = (f: string): unknown => JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const ort = await backend.ort();
    const m = await OnnxModel.load(
      ort,
      { id: 'variant', config: json('config.json'), tokenizer: json('tokenizer.json'), tokenizerConfig: json('tokenizer_config.json'), onnx: bytes },
      { backend: backend.name, threads: 1 },
    );
    try {
      const ids = m.tokenizer.encode(PROMPTS[1] ?? '');
      const n = ids.length;
      const result = await m.forward(ids);
      const layers = m.plan.fusedRecompute?.ok ? m.plan.fusedRecompute.layers : [];
      expect(layers).toHaveLength(2);
      const own = await operatorOutputs(ort, bytes, layers.map((l) => l.output), ids);
      own.forEach((out, l) => expect(maxAbsDiff(weightedSum(result, l), out)).toBeLessThan(TOLERANCE));
      result.attention?.data.forEach((layer) => {
        for (let row = 0; row < 8 * n; row++) expect(Math.abs(layer.subarray(row * n, (row + 1) * n).reduce((a, p) => a + p, 0) - 1)).toBeLessThan(TOLERANCE);
      });
      const windowed = v.name.includes('window of 4');
      // With the window, query n − 1 gives no weight to keys before n − 4.
      if (windowed) expect(result.attention?.data[0]?.subarray((n - 1) * n, (n - 1) * n + n - 4).every((p) => p === 0)).toBe(true);
    } finally {
      await m.release();
    }
  });
});
