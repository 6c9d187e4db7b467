import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { companionFiles } from '../../src/common/model-import';
import { ModelRegistry } from '../../src/node/model-registry';
import { readModelFiles } from '../../src/node/model-folder-files';
import { softmax, topK } from '../../src/engine/sampling/distribution';
import { OnnxModel, type BackendName, type OrtModule } from '../../src/engine/session';
import { ROOT, fixture } from './load-model';
import { maxAbsDiff } from './reference-checks';

/**
 * The ONNX forms the hub publishes (tools/fixtures/build_published_forms.py): Optimum's graphs with
 * past inputs, its split and merged decoders, ONNX Runtime's int8 dynamic quantization, q4
 * MatMulNBits, weight-only int8, float16 with float16 or float32 io, and a Llama whose grouped-query
 * softmax is 5-D. Each is checked against its reference: PyTorch for float32 files, the same file run
 * directly in onnxruntime-node for the reduced-precision ones.
 */

interface FormReference {
  files: {
    file: string;
    dtype: string;
    reference: 'pytorch' | 'onnxruntime-node';
    greedy_on_cache?: boolean;
    prompts: {
      prompt: string;
      ids: number[];
      top: { id: number; prob: number }[];
      attention?: number[][][][];
      greedy?: number[];
    }[];
  }[];
}

const MODELS = join(ROOT, 'tests/fixtures/models');
const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const loaded: OnnxModel[] = [];

/** Loads one file of a fixture folder with the cache graph the registry would pair with it. */
async function loadForm(folder: string, file: string, ort: OrtModule = ortWeb, backend: BackendName = 'wasm'): Promise<OnnxModel> {
  const dir = join(MODELS, folder);
  const withPast = companionFiles(file).withPast.find((f) => existsSync(join(dir, f))) ?? null;
  const model = await OnnxModel.load(
    ort,
    {
      id: folder,
      config: json(join(dir, 'config.json')),
      tokenizer: json(join(dir, 'tokenizer.json')),
      tokenizerConfig: json(join(dir, 'tokenizer_config.json')),
      onnx: new Uint8Array(readFileSync(join(dir, file))),
      onnxFile: file,
      onnxWithPast: withPast ? new Uint8Array(readFileSync(join(dir, withPast))) : null,
      onnxWithPastFile: withPast,
    },
    { backend, threads: 1 },
  );
  loaded.push(model);
  return model;
}

afterAll(async () => {
  for (const m of loaded) await m.release();
});

/** Greedy decoding through the engine's generation path (the key/value cache where there is one). */
async function greedy(model: OnnxModel, ids: number[], steps: number): Promise<number[]> {
  const seq = [...ids];
  for (let i = 0; i < steps; i++) seq.push(topK(await model.nextLogits(seq), 1)[0]?.id ?? -1);
  return seq.slice(ids.length);
}

const CASES = ['gpt2-hub', 'gpt2-optimum-split', 'gpt2-fp16-io32', 'llama-gqa5d'].flatMap((folder) =>
  fixture<FormReference>(`${folder}-reference.json`).files.map((f) => [`${folder}/${f.file} (${f.dtype})`, folder, f] as const),
);

describe.each(CASES)('%s', (_, folder, ref) => {
  // Float32 files equal PyTorch within 1e-4; reduced precision equals the same file in onnxruntime-node
  // within 1e-4 too (wasm and native compute the file as written: 4e-6 apart at most, for float16).
  const TOLERANCE = 1e-4;
  let model: OnnxModel;

  it('loads, and generates on a key/value cache wherever the file has one (or says why not)', async () => {
    model = await loadForm(folder, ref.file);
    const hasCacheGraph = folder !== 'gpt2-fp16-io32';
    expect(model.hasCache).toBe(hasCacheGraph);
    if (hasCacheGraph) expect(model.cacheNote).toBeNull();
    else expect(model.cacheNote).toMatch(/gpt2-fp16-io32\/onnx\/model\.onnx has no key\/value cache/);
  });

  it.each(ref.prompts.map((p) => [p.prompt, p] as const))('gives the reference top-10 for %j', async (__, p) => {
    expect(model.tokenizer.encode(p.prompt)).toEqual(p.ids);
    const result = await model.forward(p.ids);
    const probs = softmax(result.lastLogits);
    expect(topK(result.lastLogits, 10).map((t) => t.id)).toEqual(p.top.map((t) => t.id));
    for (const t of p.top) expect(Math.abs((probs[t.id] ?? NaN) - t.prob)).toBeLessThan(TOLERANCE);
    // Every view the graph shows is read in its real type: probabilities in [0, 1] that sum to 1.
    const attention = result.attention;
    expect(attention).not.toBeNull();
    const n = p.ids.length;
    for (const layer of attention?.data ?? []) {
      for (let row = 0; row < layer.length / n; row++) {
        const sum = layer.subarray(row * n, (row + 1) * n).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - 1)).toBeLessThan(ref.dtype.includes('fp16') ? 2e-3 : 1e-5);
      }
    }
    if (p.attention) {
      const expected = p.attention.flat(3);
      expect(attention?.data.length).toBe(p.attention.length);
      const got = attention?.data.flatMap((d) => [...d]) ?? [];
      expect(got.length).toBe(expected.length);
      expect(maxAbsDiff(got, expected)).toBeLessThan(TOLERANCE);
    }
    expect(result.embeddings.token).not.toBeNull();
    expect(result.residual).not.toBeNull();
  });

  it('generates the reference greedy tokens', async () => {
    const first = ref.prompts[0];
    if (!first?.greedy) throw new Error('the reference has no greedy tokens');
    expect(await greedy(model, first.ids, first.greedy.length)).toEqual(first.greedy);
    // The cache kept working through every step (a failure would have dropped it with a note).
    expect(model.hasCache).toBe(folder !== 'gpt2-fp16-io32');
  });
});

describe('the quantized and half-precision variants on native (onnxruntime-node) and wasm', () => {
  it.each(['onnx/model_quantized.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx', 'onnx/model_int8.onnx'])(
    '%s: probabilities within 1e-4, attention within 1e-4 (1e-3 in half precision): no rewrite changes the arithmetic',
    async (file) => {
      const wasm = await loadForm('gpt2-hub', file);
      const native = await loadForm('gpt2-hub', file, ortNode as unknown as OrtModule, 'native');
      const ids = wasm.tokenizer.encode('The cat sat on the mat and the dog');
      const [a, b] = [await wasm.forward(ids), await native.forward(ids)];
      expect(maxAbsDiff(softmax(a.lastLogits), softmax(b.lastLogits))).toBeLessThan(1e-4);
      // Float16 attention is computed in half precision, whose step near 1 is 2⁻¹¹ ≈ 4.9e-4: the two
      // backends' kernels may round a weight one step apart.
      const attentionTolerance = file.includes('fp16') ? 1e-3 : 1e-4;
      a.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, b.attention?.data[l] ?? [NaN])).toBeLessThan(attentionTolerance));
      expect(await greedy(native, ids, 4)).toEqual(await greedy(wasm, ids, 4));
    },
  );
});

describe('the embedding tables of a quantized file', () => {
  it('are dequantized with the graph\'s scale and zero point, within one quantization step of float32', async () => {
    const float = await loadForm('gpt2-hub', 'onnx/model.onnx');
    const int8 = await loadForm('gpt2-hub', 'onnx/model_quantized.onnx');
    const [a, b] = [float.embeddingTables().token, int8.embeddingTables().token];
    if ('unavailable' in a || 'unavailable' in b) throw new Error('a token table was not read');
    expect(b.rows).toBe(a.rows);
    expect(b.width).toBe(a.width);
    const scale = Math.max(...a.data.map(Math.abs)) / 127;
    expect(maxAbsDiff(a.data, b.data)).toBeLessThanOrEqual(scale * 0.51);
    // The neighbour search works on the dequantized table.
    expect(int8.neighbours(106, 3)[0]?.id).toBe(106);
  });
});

describe('the registry: a hub folder lists its variants, and each can be chosen', () => {
  const registry = new ModelRegistry([{ dir: MODELS, source: 'user' }]);

  it('lists every variant by name with its files, full precision first', async () => {
    const info = await registry.resolve('gpt2-hub');
    expect(info.variant).toBe('fp32');
    expect(info.files.onnx).toBe('onnx/model.onnx');
    expect(info.variants.map((v) => v.name)).toEqual(['fp32', 'fp16', 'quantized', 'int8', 'q4']);
    expect(info.precision).toBe('float32');
  });

  it.each([
    ['fp16', 'onnx/model_fp16.onnx', 'fp16'],
    ['quantized', 'onnx/model_quantized.onnx', 'int8 dynamic'],
    ['q4', 'onnx/model_q4.onnx', 'q4 block 32'],
    ['int8', 'onnx/model_int8.onnx', 'int8 weights'],
  ])('--variant %s opens %s, shown as %s', async (variant, file, precision) => {
    const info = await registry.resolve('gpt2-hub', variant);
    expect(info.files.onnx).toBe(file);
    expect(info.precision).toContain(precision);
    const files = await readModelFiles(info);
    expect(files.onnxFile).toBe(file);
  });

  it('finds Optimum\'s decoder_with_past_model.onnx beside decoder_model.onnx, and the merged decoder first', async () => {
    const info = await registry.resolve('gpt2-optimum-split');
    expect(info.files.onnx).toBe('onnx/decoder_model_merged.onnx');
    expect(info.variants.map((v) => [v.name, v.onnx, v.onnxWithPast])).toEqual([
      ['fp32', 'onnx/decoder_model_merged.onnx', null],
      ['quantized', 'onnx/decoder_model_merged_quantized.onnx', null],
    ]);
    expect(companionFiles('onnx/decoder_model.onnx').withPast).toContain('onnx/decoder_with_past_model.onnx');
  });

  it('names the variants a folder has when another is asked for', async () => {
    await expect(registry.resolve('gpt2-optimum-split', 'q4')).rejects.toThrow(/no q4 variant \(this folder has fp32, quantized\)/);
    await expect(registry.resolve('gpt2-hub', 'fp8')).rejects.toThrow(/unknown variant "fp8": expected one of fp32, fp16/);
  });
});

describe('interventions on the published forms (float16 probabilities, 5-D grouped-query softmax, quantized layers)', () => {
  it.each([
    ['gpt2-hub', 'onnx/model_fp16.onnx'],
    ['gpt2-hub', 'onnx/model_quantized.onnx'],
    ['llama-gqa5d', 'onnx/model.onnx'],
  ])('%s/%s: a no-op edit changes nothing; a switched-off head is zero and the others keep their weights', async (folder, file) => {
    const model = await loadForm(folder, file);
    const ids = model.tokenizer.encode('The cat sat on the mat and the dog');
    const n = ids.length;
    const plain = await model.forward(ids);
    const same = await model.forwardEdited(ids, { ablateHeads: [], removeKeys: [] });
    expect(maxAbsDiff(same.lastLogits, plain.lastLogits)).toBe(0);
    const heads = plain.attention?.heads ?? 0;
    expect(heads).toBe(model.config.heads);
    const edited = await model.forwardEdited(ids, { ablateHeads: [{ layer: 1, head: 1 }] });
    const layer = edited.attention?.data[1] ?? new Float32Array();
    const before = plain.attention?.data[1] ?? new Float32Array();
    for (let h = 0; h < heads; h++) {
      const got = layer.subarray(h * n * n, (h + 1) * n * n);
      if (h === 1) expect(Math.max(...got.map(Math.abs))).toBe(0);
      else expect(maxAbsDiff(got, before.subarray(h * n * n, (h + 1) * n * n))).toBe(0);
    }
    expect(maxAbsDiff(edited.lastLogits, plain.lastLogits)).toBeGreaterThan(1e-4);
  });
});

describe("comparison columns on a graph's own cache (one batched pass)", () => {
  it.each(['onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx'])('%s: each column continues its own cache, equal to recomputing it', async (file) => {
    const model = await loadForm('gpt2-hub', file);
    const base = model.tokenizer.encode('The cat sat on the mat and the dog');
    let rows = [0, 1, 2].map((k) => [...base, 100 + k]);
    // Each column's prefix cached, then two batched steps of all three.
    for (const row of rows) await model.nextLogits(row);
    for (let step = 0; step < 2; step++) {
      rows = rows.map((r, k) => [...r, 200 + step * 3 + k]);
      const { lastLogits } = await model.nextLogitsBatch(rows);
      for (const [k, row] of rows.entries()) {
        const full = (await model.forward(row, false)).lastLogits;
        // Dynamic quantization scales each pass's activations as a whole, so a cached step is close, not equal.
        expect(maxAbsDiff(softmax(lastLogits[k] ?? new Float32Array()), softmax(full))).toBeLessThan(file.includes('quantized') ? 2e-2 : 1e-4);
      }
    }
    expect(model.hasCache).toBe(true);
  });
});

describe('a graph input the engine cannot feed', () => {
  it('is refused at load, named with its type and shape and the inputs the engine feeds', async () => {
    const onnxProto = (await import('onnx-proto')).default;
    const dir = join(MODELS, 'gpt2-hub');
    const model = onnxProto.onnx.ModelProto.decode(readFileSync(join(dir, 'onnx/model.onnx')));
    model.graph?.input?.push(
      onnxProto.onnx.ValueInfoProto.create({ name: 'encoder_hidden_states', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 4 }] } } } }),
    );
    await expect(
      OnnxModel.load(
        ortWeb,
        {
          id: 'gpt2-hub',
          config: json(join(dir, 'config.json')),
          tokenizer: json(join(dir, 'tokenizer.json')),
          tokenizerConfig: {},
          onnx: onnxProto.onnx.ModelProto.encode(model).finish(),
          onnxFile: 'onnx/model.onnx',
        },
        { backend: 'wasm', threads: 1 },
      ),
    ).rejects.toThrow(
      'gpt2-hub/onnx/model.onnx: graph inputs the engine cannot feed: encoder_hidden_states (float32 [batch, 4]); it feeds input_ids, attention_mask, position_ids, token_type_ids, cache_position, use_cache_branch and past_key_values.{layer}.key/value',
    );
  });
});
