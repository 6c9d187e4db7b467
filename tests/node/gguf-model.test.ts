import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate';
import { softmax, topK } from '../../src/engine/sampling/distribution';
import type { OnnxModel } from '../../src/engine/session';
import { GgufModel } from '../../src/node/gguf-model';
import { fixture, loadBundled, ROOT } from '../engine/load-model';
import { ntl, tempDir } from './helpers';

/**
 * The GGUF fixture (tools/fixtures/build_gguf_fixture.py) against its ONNX twin: the same GPT-2
 * weights, tanh GELU in both. With the engine's defaults (F32 key/value cache, flash attention off)
 * the one difference left is llama.cpp's CPU GELU, read from a float16 table: F32 GGUF and float32
 * ONNX differ by up to 1.6e-4 in probability on these texts, and PyTorch with that table gives
 * llama.cpp's numbers within 1e-6.
 */
const TWIN = join(ROOT, 'tests/fixtures/models/gpt2-gguf-twin');
const F32 = join(TWIN, 'gpt2-gguf-twin-f32.gguf');
const Q8 = join(TWIN, 'gpt2-gguf-twin-q8_0.gguf');
const F32_TOLERANCE = 2e-4;
const Q8_TOLERANCE = 2e-2;

const TEXTS = [
  'The sun rises in the',
  'The cat sat on the mat and the dog',
  "She took her money to the bank. At the bank she deposited it.",
  "It's 42 o'clock,  isn't it?\n\tNew line!",
  'Über café — naïve 🙂 日本語',
  '   leading spaces and trailing   ',
];

interface Reference {
  prompts: { prompt: string; ids: number[]; top: { id: number; prob: number }[]; greedy: number[]; top_prob_ggml_gelu: number[] }[];
}

let onnx: OnnxModel;
let gguf: GgufModel;
let q8: GgufModel;

beforeAll(async () => {
  onnx = await loadBundled(TWIN);
  gguf = await GgufModel.load(F32, { threads: 1 });
  q8 = await GgufModel.load(Q8, { threads: 1 });
}, 60_000);

afterAll(async () => {
  await gguf.release();
  await q8.release();
  await onnx.release();
});

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
};

describe('a GGUF model on llama.cpp next to its ONNX twin', () => {
  it('describes itself through the engine contract', () => {
    expect(gguf.source).toBe('gguf');
    expect(gguf.capabilities).toEqual({ attention: false, embeddings: true, residual: false, logitLens: false, interventions: false, fullVocabulary: true, kvCache: true });
    expect(gguf.capabilityNotes.attention).toBe("llama.cpp's public API does not expose attention weights");
    expect(gguf.hasCache).toBe(true);
    expect(gguf.config).toMatchObject({ modelType: 'gpt2', vocabSize: 320, layers: 2, heads: 2, hidden: 32, context: 64, eosTokenId: 319 });
  });

  it("reads token embedding rows from the file's token_embd table: F32 exactly the ONNX twin's, Q8_0 within its quantization step", async () => {
    const ids = onnx.tokenizer.encode(TEXTS[1]!);
    const expected = (await onnx.forward(ids, true)).embeddings.token;
    expect(expected).not.toBeNull();
    const f32 = await gguf.tokenEmbeddings(ids);
    expect(f32?.dim).toBe(32);
    expect(Array.from(f32!.rows)).toEqual(Array.from(expected!));
    const q = await q8.tokenEmbeddings(ids);
    // Q8_0: each block of 32 is scale × int8 with scale = max|x| / 127 stored as float16: a value is off by
    // at most half a step, plus the scale's float16 rounding (2^-11 relative) times up to 127 steps.
    for (let p = 0; p < ids.length; p++) {
      const row = expected!.subarray(p * 32, p * 32 + 32);
      const step = Math.max(...Array.from(row, Math.abs)) / 127;
      const got = q!.rows.subarray(p * 32, p * 32 + 32);
      expect(maxDiff(got, row), `position ${p}`).toBeLessThanOrEqual(step * (0.5 + 127 / 2048));
      expect(maxDiff(got, row)).toBeGreaterThan(0);
    }
  });

  it("tokenizes with llama.cpp's tokenizer exactly as the ONNX twin's tokenizer.json", () => {
    for (const text of TEXTS) {
      const ids = gguf.tokenizer.encode(text);
      expect(ids, text).toEqual(onnx.tokenizer.encode(text));
      expect(gguf.tokenizer.decode(ids)).toBe(text);
      // A piece's text is the same wherever it is whole UTF-8 (a lone byte of a multi-byte character is "�" in both).
      for (const id of ids) expect(gguf.tokenizer.piece(id).text).toBe(onnx.tokenizer.piece(id).text);
    }
    // Every token's text and label, lone bytes of multi-byte characters ("<0xA1>") and <|endoftext|> included.
    for (let id = 0; id < 320; id++) expect(gguf.tokenizer.piece(id), `id ${id}`).toEqual(onnx.tokenizer.piece(id));
  });

  it('gives the full-vocabulary distribution of the ONNX twin (F32 within 2e-4, Q8_0 within 2e-2, top-1 equal)', async () => {
    const reference = fixture<Reference>('gpt2-gguf-twin-reference.json');
    let worstF32 = 0;
    let worstQ8 = 0;
    for (const text of TEXTS) {
      const ids = onnx.tokenizer.encode(text);
      const expected = softmax(await onnx.nextLogits(ids));
      const f32 = softmax(await gguf.nextLogits(ids));
      const q8probs = softmax(await q8.nextLogits(ids));
      expect(f32.length).toBe(320);
      worstF32 = Math.max(worstF32, maxDiff(f32, expected));
      worstQ8 = Math.max(worstQ8, maxDiff(q8probs, expected));
      const top10 = topK(await onnx.nextLogits(ids), 10).map((t) => t.id);
      expect(topK(Float32Array.from(f32, Math.log), 10).map((t) => t.id), text).toEqual(top10);
      expect(topK(Float32Array.from(q8probs, Math.log), 1)[0]?.id, text).toBe(top10[0]);
    }
    for (const p of reference.prompts) {
      const probs = softmax(await gguf.nextLogits(p.ids));
      for (const t of p.top) expect(Math.abs((probs[t.id] ?? 0) - t.prob)).toBeLessThan(F32_TOLERANCE);
    }
    console.log(`max |p_gguf - p_onnx| over the vocabulary: F32 ${worstF32.toExponential(2)}, Q8_0 ${worstQ8.toExponential(2)}`);
    expect(worstF32).toBeLessThan(F32_TOLERANCE);
    expect(worstQ8).toBeLessThan(Q8_TOLERANCE);
  });

  it("differs from float32 by llama.cpp's float16 GELU table alone: PyTorch with that table gives its numbers within 1e-6", async () => {
    for (const p of fixture<Reference>('gpt2-gguf-twin-reference.json').prompts) {
      const probs = softmax(await gguf.nextLogits(p.ids));
      p.top.forEach((t, i) => expect(Math.abs((probs[t.id] ?? 0) - (p.top_prob_ggml_gelu[i] ?? 0)), `${p.prompt}: ${t.id}`).toBeLessThan(1e-6));
    }
  });

  it('generates the same tokens as the ONNX twin with our sampler chain: greedy, and seeded sampling', async () => {
    const reference = fixture<Reference>('gpt2-gguf-twin-reference.json');
    for (const p of reference.prompts) {
      const a = await generate(gguf, p.ids, { strategy: { strategy: 'greedy' }, seed: 1, maxTokens: 8 });
      expect(a.steps.map((s) => s.id)).toEqual(p.greedy);
    }
    const sampled = [
      { strategy: 'temperature', temperature: 0.9 },
      { strategy: 'top-k', temperature: 0.9, topK: 8 },
      { strategy: 'top-p', temperature: 1, topP: 0.9 },
    ] as const;
    // Seeded sampling draws one uniform number per step: where it falls within the engines' ~1e-4
    // difference of a boundary of the cumulative distribution, the token differs and the runs part.
    const runs: { name: string; same: number; total: number }[] = [];
    for (const strategy of sampled) {
      for (const seed of [1, 21, 42]) {
        for (const text of TEXTS.slice(0, 2)) {
          const ids = onnx.tokenizer.encode(text);
          const a = (await generate(onnx, ids, { strategy, seed, maxTokens: 12 })).steps.map((s) => s.id);
          const b = (await generate(gguf, ids, { strategy, seed, maxTokens: 12 })).steps.map((s) => s.id);
          const same = a.findIndex((id, i) => b[i] !== id);
          runs.push({ name: `${strategy.strategy} seed ${seed}: ${text}`, same: same === -1 ? a.length : same, total: a.length });
        }
      }
    }
    const identical = runs.filter((r) => r.same === r.total).length;
    console.log(`seeded sampling, 12 tokens: ${identical} of ${runs.length} runs identical; parted at ${runs.filter((r) => r.same < r.total).map((r) => `${r.name} step ${r.same + 1}`).join('; ')}`);
    expect(identical).toBeGreaterThanOrEqual(Math.floor(runs.length * 0.75));
  });

  it("generates on llama.cpp's key/value cache: one new token per step", async () => {
    await gguf.nextLogits(gguf.tokenizer.encode('Every morning')); // a sequence sharing no prefix with the prompt
    const ids = gguf.tokenizer.encode('The cat sat on the mat and the dog');
    const before = gguf.evaluatedTokens;
    const first = await generate(gguf, ids, { strategy: { strategy: 'greedy' }, seed: 1, maxTokens: 10 });
    expect(gguf.evaluatedTokens - before).toBe(ids.length + 9);
    // The same prompt again: only its last token is evaluated again; then one token per step.
    const again = await generate(gguf, ids, { strategy: { strategy: 'greedy' }, seed: 1, maxTokens: 10 });
    expect(gguf.evaluatedTokens - before).toBe(ids.length + 9 + 1 + 9);
    expect(again.steps.map((s) => s.id)).toEqual(first.steps.map((s) => s.id));
    // A different prompt sharing no prefix starts again from an empty sequence, with the same numbers as a fresh model.
    const other = gguf.tokenizer.encode('Every morning');
    const cached = await gguf.nextLogits(other);
    const fresh = await GgufModel.load(F32, { threads: 1 });
    try {
      expect(maxDiff(softmax(cached), softmax(await fresh.nextLogits(other)))).toBeLessThan(1e-6);
    } finally {
      await fresh.release();
    }
  });
});

describe('a GGUF file that cannot be run', () => {
  it('is refused with the cause, and the process goes on', async () => {
    const dir = await tempDir('gguf');
    const bytes = await readFile(F32);
    await writeFile(join(dir, 'truncated.gguf'), bytes.subarray(0, 100_000));
    await writeFile(join(dir, 'junk.gguf'), 'not a GGUF file');
    await expect(GgufModel.load(join(dir, 'truncated.gguf'), { threads: 1 })).rejects.toThrow(/truncated\.gguf: llama\.cpp could not load it .*truncated or corrupted/);
    await expect(GgufModel.load(join(dir, 'junk.gguf'), { threads: 1 })).rejects.toThrow(/Invalid GGUF magic/);
    await expect(GgufModel.load(join(dir, 'missing.gguf'), { threads: 1 })).rejects.toThrow('missing.gguf: no such GGUF file');
    // The same process still loads and runs a good file.
    await copyFile(F32, join(dir, 'good.gguf'));
    const good = await GgufModel.load(join(dir, 'good.gguf'), { threads: 1 });
    expect((await good.nextLogits([267, 292])).length).toBe(320);
    await good.release();
  }, 60_000);
});

describe('ntl on a GGUF file', () => {
  it('predicts and generates with "source": "gguf" and the cache, and tokenizes', async () => {
    const predict = await ntl('predict', '--model', F32, '--prompt', 'The sun rises in the', '--json');
    expect(predict.code, predict.stderr).toBe(0);
    const p = JSON.parse(predict.stdout) as { source: string; top: { id: number; prob: number }[]; timing: { kv_cache: boolean; backend: string } };
    expect(p.source).toBe('gguf');
    expect(p.timing.kv_cache).toBe(true);
    expect(p.top[0]?.id).toBe(106);
    const gen = await ntl('generate', '--model', F32, '--prompt', 'The sun rises in the', '--max-tokens', '8', '--json');
    expect(gen.code, gen.stderr).toBe(0);
    const g = JSON.parse(gen.stdout) as { source: string; steps: { id: number }[]; timing: { kv_cache: boolean } };
    expect(g.source).toBe('gguf');
    expect(g.timing.kv_cache).toBe(true);
    expect(g.steps.map((s) => s.id)).toEqual(fixture<Reference>('gpt2-gguf-twin-reference.json').prompts[0]?.greedy);
    const tok = await ntl('tokenize', '--model', F32, '--prompt', 'The cat sat', '--json');
    expect(JSON.parse(tok.stdout)).toMatchObject({ source: 'gguf', count: 4, tokens: [{ id: 267 }, { id: 286 }, { id: 262 }, { id: 291 }] });
  }, 60_000);

  it('compares three columns as sequences of one llama.cpp context, as the ONNX twin does', async () => {
    const dir = await tempDir('gguf-compare');
    const spec = join(dir, 'spec.json');
    await writeFile(
      spec,
      JSON.stringify({
        prompt: 'The sun rises in the',
        maxTokens: 6,
        columns: [
          { name: 'greedy', seed: 1, strategy: { strategy: 'greedy' } },
          { name: 'top-k', seed: 21, strategy: { strategy: 'top-k', temperature: 0.9, topK: 8 } },
          { name: 'top-p', seed: 3, strategy: { strategy: 'top-p', temperature: 1, topP: 0.9 } },
        ],
      }),
    );
    type Compare = { source: string; timing: { kv_cache: boolean }; columns: { steps: { id: number }[] }[] };
    const ggufRun = await ntl('compare', '--spec', spec, '--model', F32, '--json');
    const onnxRun = await ntl('compare', '--spec', spec, '--model', TWIN, '--json');
    expect(ggufRun.code, ggufRun.stderr).toBe(0);
    expect(onnxRun.code, onnxRun.stderr).toBe(0);
    const a = JSON.parse(ggufRun.stdout) as Compare;
    const b = JSON.parse(onnxRun.stdout) as Compare;
    expect(a.source).toBe('gguf');
    expect(b.source).toBe('onnx');
    expect(a.timing.kv_cache).toBe(true);
    expect(a.columns.map((c) => c.steps.map((s) => s.id))).toEqual(b.columns.map((c) => c.steps.map((s) => s.id)));
  }, 60_000);

  it('refuses the views that look inside the model, in words', async () => {
    const run = await ntl('attention', '--model', F32, '--prompt', 'The sun');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a GGUF model through llama.cpp exposes no attention weights');
    const ablate = await ntl('predict', '--model', F32, '--prompt', 'The sun', '--ablate-head', '0:1');
    expect(ablate.code).toBe(2);
    expect(ablate.stderr).toContain('exposes no attention weights');
  }, 60_000);
});
