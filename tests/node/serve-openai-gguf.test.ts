import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SamplerSettings } from '../../src/common/sampler-settings';
import { generate } from '../../src/engine/generate';
import { softmax, topK } from '../../src/engine/sampling/distribution';
import { GgufModel } from '../../src/node/gguf-model';
import { RemoteClient } from '../../src/node/openai-client';
import { startOpenAiServer } from '../../src/node/openai-server';
import { remoteColumn, remotePredict } from '../../src/node/remote-model';
import { ROOT } from '../engine/load-model';
import { projectRoot } from './helpers';

/**
 * `serve-openai` serving a GGUF file (llama.cpp through node-llama-cpp): the numbers the API answers
 * equal those of the same GGUF model asked here (the fixture of tests/node/gguf-model.test.ts).
 */
const F32 = join(ROOT, 'tests/fixtures/models/gpt2-gguf-twin/gpt2-gguf-twin-f32.gguf');
const PROMPT = 'The cat sat on the mat and the dog';
let local: GgufModel;
let served: GgufModel;
let server: Server;
let url = '';

beforeAll(async () => {
  local = await GgufModel.load(F32, { threads: 1 });
  served = await GgufModel.load(F32, { threads: 1, id: 'twin.gguf' });
  ({ server, url } = await startOpenAiServer({ models: [{ id: 'twin.gguf', context: served.config.context }], load: async () => served }, 0));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await local.release();
  await served.release();
});

describe('serve-openai with a GGUF model', () => {
  // This fixture's vocabulary is mostly bytes: several likely tokens read "�", and vLLM's format keys
  // the alternatives by text, so without return_tokens_as_token_ids the checks go by the chosen token
  // and by text where it is unique.
  it('the next token: the chosen one\'s log-probability and each alternative\'s equal the GGUF model\'s own (within 1e-5)', async () => {
    const response = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'twin.gguf', prompt: PROMPT, max_tokens: 1, logprobs: 5, temperature: 0 }) });
    const body = (await response.json()) as { choices: { logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[] } }[] };
    const lp = body.choices[0]?.logprobs;
    const probs = softmax(await local.nextLogits(local.tokenizer.encode(PROMPT)));
    const best = topK(await local.nextLogits(local.tokenizer.encode(PROMPT)), 5);
    expect(lp?.tokens).toEqual([local.tokenizer.piece(best[0]?.id ?? 0).text]);
    expect(Math.abs(Math.exp(lp?.token_logprobs[0] ?? NaN) - (probs[best[0]?.id ?? 0] ?? 0))).toBeLessThan(1e-5);
    for (const [text, logprob] of Object.entries(lp?.top_logprobs[0] ?? {})) {
      const same = best.filter((b) => local.tokenizer.piece(b.id).text === text);
      expect(same.some((b) => Math.abs(Math.exp(logprob) - (probs[b.id] ?? 0)) < 1e-5), text).toBe(true);
    }
  });

  it('echo: each prompt token\'s log-probability equals the next-token distribution of its prefix (within 1e-5)', async () => {
    const response = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'twin.gguf', prompt: PROMPT, max_tokens: 0, echo: true, logprobs: 1 }) });
    const body = (await response.json()) as { choices: { logprobs: { token_logprobs: (number | null)[] } }[] };
    const logprobs = body.choices[0]?.logprobs.token_logprobs ?? [];
    const ids = local.tokenizer.encode(PROMPT);
    expect(logprobs).toHaveLength(ids.length);
    expect(logprobs[0]).toBeNull();
    for (let i = 1; i < ids.length; i++) {
      const p = softmax(await local.nextLogits(ids.slice(0, i)))[ids[i] ?? 0] ?? 0;
      expect(Math.abs(Math.exp(logprobs[i] ?? NaN) - p)).toBeLessThan(1e-5);
    }
  });

  it('a seeded sample: the tokens of the lab\'s chain on the same GGUF model', async () => {
    const client = new RemoteClient({ baseUrl: url, model: 'twin.gguf' });
    const completion = await client.stream({ prompt: PROMPT, max_tokens: 8, temperature: 0.9, top_k: 20, seed: 4, logprobs: 1 });
    const state = await generate(local, local.tokenizer.encode(PROMPT), { strategy: SamplerSettings.parse({ temperature: 0.9, topK: 20 }), seed: 4, maxTokens: 8 });
    expect(completion.tokens?.map((t) => t.token)).toEqual(state.steps.map((s) => s.token));
  });

  it('return_tokens_as_token_ids (vLLM\'s): alternatives keyed token_id:N, the top 5 by id and probability equal the GGUF model\'s; /detokenize gives their texts', async () => {
    const response = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'twin.gguf', prompt: PROMPT, max_tokens: 1, logprobs: 5, temperature: 0, return_tokens_as_token_ids: true }) });
    const body = (await response.json()) as { choices: { text: string; logprobs: { tokens: string[]; top_logprobs: Record<string, number>[]; text_offset: number[] } }[] };
    const lp = body.choices[0]?.logprobs;
    const logits = await local.nextLogits(local.tokenizer.encode(PROMPT));
    const probs = softmax(logits);
    const best = topK(logits, 5);
    expect(lp?.tokens).toEqual([`token_id:${best[0]?.id}`]);
    const top = Object.entries(lp?.top_logprobs[0] ?? {});
    expect(top.map(([key]) => key)).toEqual(best.map((b) => `token_id:${b.id}`));
    top.forEach(([, logprob], i) => expect(Math.abs(Math.exp(logprob) - (probs[best[i]?.id ?? 0] ?? 0))).toBeLessThan(1e-5));
    // The text itself and its offsets stay text.
    expect(body.choices[0]?.text).toBe(local.tokenizer.piece(best[0]?.id ?? 0).text);
    expect(lp?.text_offset).toEqual([0]);
    const texts = await Promise.all(best.map(async (b) => ((await (await fetch(`${url}/detokenize`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'twin.gguf', tokens: [b.id] }) })).json()) as { prompt: string }).prompt));
    expect(texts).toEqual(best.map((b) => local.tokenizer.piece(b.id).text));
  });

  it('the client asks for token ids, so tokens with the same text stay apart: ntl predict\'s top 5 are the GGUF model\'s, by id', async () => {
    const logits = await local.nextLogits(local.tokenizer.encode(PROMPT));
    const best = topK(logits, 5);
    const texts = best.map((b) => local.tokenizer.piece(b.id).text);
    // The case this is for: at least two of the five read the same.
    expect(new Set(texts).size).toBeLessThan(5);
    const client = new RemoteClient({ baseUrl: url, model: 'twin.gguf' });
    const prediction = await remotePredict(client, PROMPT, 5);
    expect(client.tokenIds).toBe('yes');
    expect(prediction.top.map((t) => t.id)).toEqual(best.map((b) => b.id));
    expect(prediction.top.map((t) => t.token)).toEqual(texts);
    const probs = softmax(logits);
    prediction.top.forEach((t, i) => expect(Math.abs(t.prob - (probs[best[i]?.id ?? 0] ?? 0))).toBeLessThan(1e-5));
    // A streamed column: its steps' ids and texts are the local chain's.
    const column = await remoteColumn(client, PROMPT, { settings: SamplerSettings.parse({ temperature: 0.9, topK: 20 }), seed: 4, maxTokens: 6, k: 5 });
    const state = await generate(local, local.tokenizer.encode(PROMPT), { strategy: SamplerSettings.parse({ temperature: 0.9, topK: 20 }), seed: 4, maxTokens: 6 });
    expect(column.steps.map((s) => [s.id, s.token])).toEqual(state.steps.map((s) => [s.id, s.token]));
    for (const step of column.steps) expect(new Set(step.top.map((a) => a.id)).size).toBe(5);
  });

  it('a prompt of token ids (a fork\'s prefix) is taken as it is, even a byte token whose text does not tokenize back to it; an id outside the vocabulary is refused', async () => {
    const ids = local.tokenizer.encode(PROMPT);
    const logits = await local.nextLogits(ids);
    // The likeliest alternative whose text, tokenized again, is not that token (a byte of a longer character).
    const alternative = topK(logits, 20).find((b) => {
      const again = local.tokenizer.encode(local.tokenizer.piece(b.id).text);
      return again.length !== 1 || again[0] !== b.id;
    });
    expect(alternative).toBeDefined();
    const forked = [...ids, alternative?.id ?? 0];
    const client = new RemoteClient({ baseUrl: url, model: 'twin.gguf' });
    const column = await remoteColumn(client, forked, { settings: SamplerSettings.parse({ greedy: true }), seed: 1, maxTokens: 4, k: 5 });
    const state = await generate(local, forked, { strategy: SamplerSettings.parse({ greedy: true }), seed: 1, maxTokens: 4 });
    expect(column.steps.map((s) => s.id)).toEqual(state.steps.map((s) => s.id));
    const vocab = local.config.vocabSize;
    const refused = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'twin.gguf', prompt: [...ids, vocab], max_tokens: 1 }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(`prompt: token id ${vocab} is not in the vocabulary (0 to ${vocab - 1})`);
  });

  it('ntl serve-openai --model FILE.gguf serves it by its file name', async () => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin/ntl.mjs'), 'serve-openai', '--port', '0', '--model', F32], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const base = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          const match = / at (http:\/\/127\.0\.0\.1:\d+\/v1) /.exec(output);
          if (match?.[1]) resolve(match[1]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const models = (await (await fetch(`${base}/models`)).json()) as { data: { id: string; max_model_len: number }[] };
      expect(models.data).toEqual([expect.objectContaining({ id: 'gpt2-gguf-twin-f32.gguf', max_model_len: local.config.context })]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
