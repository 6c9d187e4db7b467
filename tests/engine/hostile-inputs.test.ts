import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitPrompt } from '../../src/engine/cell-results';
import { generationStep } from '../../src/engine/generate';
import { OnnxModel, type ModelFiles } from '../../src/engine/session';
import { ModelTokenizer } from '../../src/engine/tokenizer';
import { ntl } from '../node/helpers';
import { loadBundled, SEED_WORLD } from './load-model';

/** One row each of docs/hostile-inputs.md: prompts, tokenizer files and ONNX files, on the engine. */

const { onnx } = onnxProto;
const json = (file: string): unknown => JSON.parse(readFileSync(join(SEED_WORLD, file), 'utf8'));
const seedOnnx = new Uint8Array(readFileSync(join(SEED_WORLD, 'onnx/model.onnx')));

let model: OnnxModel;
beforeAll(async () => {
  model = await loadBundled(SEED_WORLD, { cache: false });
});
afterAll(async () => {
  await model.release();
});

/** seed-world's files with one of them replaced. */
function files(replace: Partial<ModelFiles>): ModelFiles {
  return { id: 'hostile', config: json('config.json'), tokenizer: json('tokenizer.json'), tokenizerConfig: json('tokenizer_config.json'), onnx: seedOnnx, ...replace };
}

async function loadFailure(replace: Partial<ModelFiles>): Promise<string> {
  try {
    const loaded = await OnnxModel.load(ort, files(replace), { backend: 'wasm', threads: 1 });
    await loaded.release();
  } catch (cause) {
    expect(cause).toBeInstanceOf(Error);
    return (cause as Error).message;
  }
  throw new Error('expected the load to fail');
}

/** After a failure the loaded model still answers. */
async function stillAnswers(): Promise<void> {
  const r = await model.forward(model.tokenizer.encode('The sun rises in the'));
  expect(r.lastLogits).toHaveLength(1024);
}

/** What TextEncoder makes of a string: each lone surrogate becomes U+FFFD. */
const wellFormed = (s: string): string => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

describe('hostile prompts', () => {
  it('an empty prompt has no tokens and is refused by name; the model still answers', async () => {
    expect(model.tokenizer.encode('')).toEqual([]);
    await expect(model.forward([])).rejects.toThrow('the prompt has no tokens');
    await stillAnswers();
  });

  it('a 100,000-character prompt tokenizes within 3 s and keeps its last 128 tokens', async () => {
    const prompt = 'The sun rises in the east. The cat sat on the mat 🌞\n'.repeat(2000).slice(0, 100_000);
    expect(prompt.length).toBe(100_000);
    const started = performance.now();
    const ids = model.tokenizer.encode(prompt);
    const fitted = fitPrompt(ids, model.config.context);
    const pieces = fitted.ids.map((id) => model.tokenizer.piece(id));
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(ids.length).toBeGreaterThan(20_000);
    expect(fitted.dropped).toBe(ids.length - 128);
    expect(fitted.ids).toEqual(ids.slice(-128));
    // The same labels as labelling every token and keeping the last 128, which the app did before.
    expect(pieces).toEqual(model.tokenizer.pieces(prompt).slice(-128));
    const r = await model.forward(fitted.ids);
    expect(r.attention?.data[0]).toHaveLength(4 * 128 * 128);
    // A full context: generation stops with the reason instead of running past it.
    const state = await generationStep(model, { ids: fitted.ids, steps: [], rngState: 1, stopReason: null }, { strategy: 'greedy' });
    expect(state.stopReason).toBe('context-full');
    // The command line says how many tokens it dropped.
    const run = await ntl('predict', '--prompt', prompt, '--top', '1', '--json');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`ntl: note: the prompt has ${ids.length} tokens, more than the model's context of 128; dropped the first ${ids.length - 128}\n`);
    expect((JSON.parse(run.stdout) as { tokens: unknown[] }).tokens).toHaveLength(128);
  });

  it('lone surrogates and control characters tokenize, show as visible labels, and run', async () => {
    const prompt = 'a\uD800b\uDFFFc \u0000\u0007\u001b[31m red\u202e\uFEFF\r\n\t🌞\uDBFF';
    const ids = model.tokenizer.encode(prompt);
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 1024)).toBe(true);
    expect(model.tokenizer.decode(ids)).toBe(wellFormed(prompt));
    expect(wellFormed(prompt)).toContain('a\uFFFDb\uFFFDc');
    const labels = ids.map((id) => model.tokenizer.piece(id).display).join('');
    for (const label of ['<0x00>', '<0x07>', '<0x1B>', '↵', '⇥', '␍']) expect(labels).toContain(label);
    const r = await model.forward(ids);
    expect(r.lastLogits.every(Number.isFinite)).toBe(true);
  });
});

describe('hostile tokenizer.json', () => {
  it('malformed: not an object, no vocabulary, not a tokenizer: named with the field', async () => {
    expect(() => new ModelTokenizer('not json', {})).toThrow('tokenizer.json: expected a JSON object');
    expect(() => new ModelTokenizer({ model: { type: 'BPE' } }, {})).toThrow('tokenizer.json: field "model.vocab" is missing');
    expect(() => new ModelTokenizer({ model: { type: 'Nonsense', vocab: 7 } }, {})).toThrow(/^tokenizer\.json: could not be read \(/);
    expect(await loadFailure({ tokenizer: { model: { type: 'BPE' } } })).toBe('tokenizer.json: field "model.vocab" is missing');
    await stillAnswers();
  });

  it('merges that reference unknown tokens: named with the merge and the missing piece', async () => {
    const tokenizer = json('tokenizer.json') as { model: { merges: unknown[] } };
    tokenizer.model.merges.splice(3, 0, 'Ġzz qq');
    expect(await loadFailure({ tokenizer })).toBe('tokenizer.json: field "model.merges[3]" ("Ġzz qq"): "Ġzz" is not in the vocabulary');
    await stillAnswers();
  });
});

describe('hostile ONNX files', () => {
  it('truncated and random bytes: "not a readable ONNX model", naming the file', async () => {
    expect(await loadFailure({ onnx: seedOnnx.subarray(0, seedOnnx.byteLength >> 1) })).toMatch(/^hostile\/onnx\/model\.onnx: not (a readable )?(an )?ONNX model/);
    let seed = 1;
    const random = Uint8Array.from({ length: 64 * 1024 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff);
    expect(await loadFailure({ onnx: random })).toMatch(/^hostile\/onnx\/model\.onnx: not (a readable )?(an )?ONNX model/);
    await stillAnswers();
  });

  it('absurd dimensions: refused before a session is made, naming the tensor and the dimension', async () => {
    const variant = (edit: (m: onnxProto.onnx.ModelProto) => void): Uint8Array => {
      const m = onnx.ModelProto.decode(seedOnnx);
      edit(m);
      return onnx.ModelProto.encode(m).finish();
    };
    const first = onnx.ModelProto.decode(seedOnnx).graph?.initializer?.find((i) => (i.dims?.length ?? 0) === 2);
    const name = first?.name ?? '';
    const started = performance.now();
    expect(
      await loadFailure({
        onnx: variant((m) => {
          const init = m.graph?.initializer?.find((i) => i.name === name);
          if (init) init.dims = [1_000_000_000, 1_000_000_000];
        }),
      }),
    ).toMatch(new RegExp(`^hostile/onnx/model\\.onnx: initializer "${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" declares dimensions \\[1000000000, 1000000000\\] \\(1000000000000000000 values\\) but holds \\d+$`));
    expect(
      await loadFailure({
        onnx: variant((m) => {
          const dim = m.graph?.output?.[0]?.type?.tensorType?.shape?.dim;
          if (dim) dim[2] = { dimValue: 1e12 };
        }),
      }),
    ).toBe('hostile/onnx/model.onnx: graph output "logits" declares dimension 2 as 1000000000000; a dimension is a whole number from 0 to 2147483647');
    expect(
      await loadFailure({
        onnx: variant((m) => {
          const dim = m.graph?.input?.[0]?.type?.tensorType?.shape?.dim;
          if (dim) dim[1] = { dimValue: -5 };
        }),
      }),
    ).toBe('hostile/onnx/model.onnx: graph input "input_ids" declares dimension 1 as -5; a dimension is a whole number from 0 to 2147483647');
    expect(performance.now() - started).toBeLessThan(5_000);
    await stillAnswers();
  });
});
