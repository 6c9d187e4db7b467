import { execFile, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SamplerSettings } from '../../src/common/sampler-settings';
import { predictResult } from '../../src/engine/cell-results';
import { generate } from '../../src/engine/generate';
import type { OnnxModel } from '../../src/engine/session';
import { promptSurprisal } from '../../src/engine/surprisal';
import { createRegistry, loadModel } from '../../src/cli/model-host';
import { RemoteClient } from '../../src/node/openai-client';
import { MAX_REQUEST_BYTES, startOpenAiServer } from '../../src/node/openai-server';
import { projectRoot, type Run } from './helpers';

/**
 * `ntl serve-openai` on 127.0.0.1 with the bundled seed-world model, and the remote path (`--model
 * remote:seed-world`) against it: every number compared with the same model run here, locally.
 */

const PROMPT = 'The sun rises in the';
let local: OnnxModel;
let served: OnnxModel;
let server: Server;
let url: string;

function ntl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(projectRoot, 'bin', 'ntl.mjs'), ...args], { cwd: projectRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error && typeof error.code === 'number' ? error.code : error ? 1 : 0, stdout, stderr });
    });
  });
}

async function ntlJson(...args: string[]): Promise<Record<string, unknown>> {
  const run = await ntl(...args, '--json');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const remote = (): string[] => ['--model', 'remote:seed-world', '--base-url', `${url}/v1`];

async function post(path: string, body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/json' }): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const info = await createRegistry().resolve('seed-world');
  local = (await loadModel(info, { backend: 'wasm', threads: 1, cache: true })).engine;
  served = (await loadModel(info, { backend: 'wasm', threads: 1, cache: true })).engine;
  ({ server, url } = await startOpenAiServer({ models: [{ id: 'seed-world', context: info.context }], load: async () => served }, 0));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await local.release();
  await served.release();
});

describe('serve-openai: the API', () => {
  it('listens on 127.0.0.1 and lists its models', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { object: string; data: { id: string; object: string; max_model_len: number }[] };
    expect(models.object).toBe('list');
    expect(models.data).toEqual([expect.objectContaining({ id: 'seed-world', object: 'model', max_model_len: 128 })]);
  });

  it('/tokenize answers as vLLM does, with the local tokenizer\'s ids', async () => {
    const { status, body } = await post('/tokenize', { model: 'seed-world', prompt: PROMPT });
    expect(status).toBe(200);
    expect(body).toEqual({ tokens: local.tokenizer.encode(PROMPT), count: local.tokenizer.encode(PROMPT).length, max_model_len: 128 });
  });

  it('logprobs: K gives the local top-K (within 1e-5), text_offset into the text, the chosen token among them', async () => {
    const { status, body } = await post('/v1/completions', { model: 'seed-world', prompt: PROMPT, max_tokens: 1, logprobs: 5, temperature: 0 });
    expect(status).toBe(200);
    expect(body['object']).toBe('text_completion');
    const choice = (body['choices'] as { text: string; finish_reason: string; logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[]; text_offset: number[] } }[])[0];
    const expected = predictResult((await local.forward(local.tokenizer.encode(PROMPT), false)).lastLogits, 5).top;
    const top = Object.entries(choice?.logprobs.top_logprobs[0] ?? {}).sort((a, b) => b[1] - a[1]);
    expect(top.map(([token]) => token)).toEqual(expected.map((t) => local.tokenizer.piece(t.id).text));
    top.forEach(([, logprob], i) => expect(Math.abs(Math.exp(logprob) - (expected[i]?.prob ?? 0))).toBeLessThan(1e-5));
    expect(choice?.text).toBe(' east');
    expect(choice?.logprobs.text_offset).toEqual([0]);
    expect(choice?.finish_reason).toBe('length');
    expect(body['usage']).toEqual({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
  });

  it('echo with max_tokens 0: the prompt\'s tokens with their log-probabilities, the first null', async () => {
    const { body } = await post('/v1/completions', { model: 'seed-world', prompt: PROMPT, max_tokens: 0, echo: true, logprobs: 1 });
    const choice = (body['choices'] as { text: string; logprobs: { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: unknown[]; text_offset: number[] } }[])[0];
    const ids = local.tokenizer.encode(PROMPT);
    const { logits, vocab } = await local.positionLogits(ids);
    const expected = promptSurprisal(ids, logits, vocab);
    expect(choice?.text).toBe(PROMPT);
    expect(choice?.logprobs.tokens.join('')).toBe(PROMPT);
    expect(choice?.logprobs.token_logprobs[0]).toBeNull();
    expect(choice?.logprobs.top_logprobs[0]).toBeNull();
    expect(choice?.logprobs.text_offset).toEqual([0, 3, 7, 13, 16]);
    choice?.logprobs.token_logprobs.slice(1).forEach((lp, i) => expect(Math.abs(Math.exp(lp ?? NaN) - (expected[i + 1]?.prob ?? 0))).toBeLessThan(1e-5));
  });

  it('stream: server-sent events, one token a chunk, then data: [DONE]; the same text as unstreamed with the same seed', async () => {
    const request = { model: 'seed-world', prompt: PROMPT, max_tokens: 6, temperature: 1, top_k: 8, seed: 5, logprobs: 2 };
    const whole = await post('/v1/completions', request);
    const response = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...request, stream: true }) });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = (await response.text()).split('\n\n').filter((e) => e !== '');
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as { choices: { text: string; finish_reason: string | null; logprobs: { tokens: string[] } }[] });
    const withChoice = chunks.filter((c) => c.choices.length > 0);
    expect(withChoice).toHaveLength(6);
    expect(withChoice.every((c) => c.choices[0]?.logprobs.tokens.length === 1)).toBe(true);
    expect(withChoice.at(-1)?.choices[0]?.finish_reason).toBe('length');
    expect(withChoice.map((c) => c.choices[0]?.text).join('')).toBe((whole.body['choices'] as { text: string }[])[0]?.text);
  });

  it('stream with echo: the prompt in a first chunk with its log-probabilities, then the tokens', async () => {
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'seed-world', prompt: PROMPT, max_tokens: 2, temperature: 0, echo: true, logprobs: 1, stream: true }),
    });
    const events = (await response.text()).split('\n\n').filter((e) => e !== '' && e !== 'data: [DONE]');
    const chunks = events.map((e) => JSON.parse(e.slice(6)) as { choices: { text: string; logprobs: { tokens: string[]; token_logprobs: (number | null)[] } }[] });
    expect(chunks[0]?.choices[0]?.text).toBe(PROMPT);
    expect(chunks[0]?.choices[0]?.logprobs.token_logprobs[0]).toBeNull();
    expect(chunks[0]?.choices[0]?.logprobs.tokens).toHaveLength(5);
    expect(chunks.slice(1, 3).map((c) => c.choices[0]?.text).join('')).toBe(' east.');
  });

  it('the logits of every position (surprisal\'s one pass) equal the last-position logits of each prefix', async () => {
    const ids = local.tokenizer.encode(PROMPT);
    const { logits, vocab } = await local.positionLogits(ids);
    expect(logits.length).toBe(ids.length * vocab);
    for (let n = 1; n <= ids.length; n++) {
      const last = (await local.forward(ids.slice(0, n), false)).lastLogits;
      const row = logits.subarray((n - 1) * vocab, n * vocab);
      let worst = 0;
      for (let i = 0; i < vocab; i++) worst = Math.max(worst, Math.abs((row[i] ?? 0) - (last[i] ?? 0)));
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it('a client that goes away mid-stream stops the generation, and the next request is served', async () => {
    const controller = new AbortController();
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'seed-world', prompt: PROMPT, max_tokens: 100, temperature: 1, seed: 1, stream: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    const started = performance.now();
    const { status } = await post('/v1/completions', { model: 'seed-world', prompt: PROMPT, max_tokens: 1, logprobs: 0 });
    expect(status).toBe(200);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('logprobs: 0 gives the chosen token\'s log-probability alone, as OpenAI does', async () => {
    const { body } = await post('/v1/completions', { model: 'seed-world', prompt: PROMPT, max_tokens: 1, logprobs: 0, temperature: 0 });
    const choice = (body['choices'] as { logprobs: { top_logprobs: Record<string, number>[] } }[])[0];
    expect(Object.keys(choice?.logprobs.top_logprobs[0] ?? {})).toEqual([' east']);
  });

  it('end of text: finish_reason "stop", the end token in logprobs but not in the text; ntl generate\'s tokens', async () => {
    const { body } = await post('/v1/completions', { model: 'seed-world', prompt: PROMPT, max_tokens: 100, temperature: 0, logprobs: 0 });
    const choice = (body['choices'] as { text: string; finish_reason: string; logprobs: { tokens: string[] } }[])[0];
    const state = await generate(local, local.tokenizer.encode(PROMPT), { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 100 });
    expect(state.stopReason).toBe('end-of-text');
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.logprobs.tokens).toEqual(state.steps.map((s) => s.token));
    expect(choice?.logprobs.tokens.at(-1)).toBe('<|endoftext|>');
    expect(choice?.text).toBe(state.steps.slice(0, -1).map((s) => s.token).join(''));
  });

  it('stop: the text ends before the stop string, finish_reason "stop"', async () => {
    const { body } = await post('/v1/completions', { model: 'seed-world', prompt: PROMPT, max_tokens: 10, temperature: 0, stop: ['.'] });
    const choice = (body['choices'] as { text: string; finish_reason: string; stop_reason: string }[])[0];
    expect(choice).toMatchObject({ text: ' east', finish_reason: 'stop', stop_reason: '.' });
  });

  it('refuses bad requests as OpenAI does: {error: {message, type, code}} with 400, 404, 413', async () => {
    const unknown = await post('/v1/completions', { model: 'seed-world', prompt: 'a', best_of: 2 });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ error: { message: 'unsupported parameter(s): best_of', type: 'invalid_request_error', param: null, code: 400 } });
    expect((await post('/v1/completions', { model: 'seed-world', prompt: 'a', logprobs: 21 })).body['error']).toMatchObject({ message: 'logprobs: logprobs must be at most 20' });
    expect((await post('/v1/completions', { model: 'seed-world', prompt: 'a', max_tokens: 0 })).status).toBe(400);
    expect((await post('/v1/completions', { model: 'seed-world', prompt: 'a', temperature: -1 })).status).toBe(400);
    expect((await post('/v1/completions', { model: 'seed-world', prompt: 'the '.repeat(200) })).body['error']).toMatchObject({ message: expect.stringMatching(/maximum context length is 128 tokens/) });
    expect((await post('/v1/completions', '{"model": ')).status).toBe(400);
    const missing = await post('/v1/completions', { model: 'gpt-4', prompt: 'a' });
    expect(missing.status).toBe(404);
    expect(missing.body['error']).toMatchObject({ type: 'not_found_error', code: 'model_not_found' });
    const big = await post('/v1/completions', { model: 'seed-world', prompt: 'a'.repeat(MAX_REQUEST_BYTES) });
    expect(big.status).toBe(413);
    expect((await fetch(`${url}/v1/chat/completions`, { method: 'POST' })).status).toBe(404);
  });
});

describe('the remote path against serve-openai, compared with the model run locally', () => {
  it('ntl tokenize: the same ids and texts, source "remote"', async () => {
    const [r, l] = await Promise.all([ntlJson('tokenize', ...remote(), '--prompt', PROMPT), ntlJson('tokenize', '--prompt', PROMPT)]);
    expect(r['source']).toBe('remote');
    expect(l['source']).toBe('onnx');
    expect(r['tokens']).toEqual(l['tokens']);
    expect(r['tokenized_by']).toBe('tokenize');
  });

  it('ntl predict: the same top-K within 1e-5, the rest as one mass, the entropy marked as over the top K', async () => {
    const [r, l] = await Promise.all([ntlJson('predict', ...remote(), '--prompt', PROMPT, '--top', '5'), ntlJson('predict', '--prompt', PROMPT, '--top', '5')]);
    expect(r['source']).toBe('remote');
    expect(r['tokens']).toEqual(l['tokens']);
    const rt = r['top'] as { token: string; prob: number }[];
    const lt = l['top'] as { token: string; prob: number }[];
    expect(rt.map((t) => t.token)).toEqual(lt.map((t) => t.token));
    rt.forEach((t, i) => expect(Math.abs(t.prob - (lt[i]?.prob ?? 0))).toBeLessThan(1e-5));
    expect(Math.abs((r['other_mass'] as number) - (1 - lt.reduce((a, t) => a + t.prob, 0)))).toBeLessThan(1e-5);
    expect(r['entropy_scope']).toBe('top-k');
    expect((r['timing'] as { backend: string }).backend).toBe('remote');
  });

  it('ntl generate: the server samples with our chain, so the seeded tokens are ntl generate\'s (streamed)', async () => {
    const flags = ['--prompt', PROMPT, '--strategy', 'top-k', '--temperature', '0.9', '--top-k', '5', '--seed', '7', '--max-tokens', '8'];
    const [r, l] = await Promise.all([ntlJson('generate', ...remote(), ...flags), ntlJson('generate', ...flags)]);
    expect(r['source']).toBe('remote');
    expect(r['sent']).toEqual({ temperature: 0.9, top_k: 5 });
    expect(r['not_applied']).toEqual([]);
    expect(r['text']).toBe(l['text']);
    // This seed ends the text: the server's own text leaves the end-of-text token out, as vLLM does.
    expect(l['stop_reason']).toBe('end-of-text');
    expect(r['server_text']).toBe(String(l['generated']).replace('<|endoftext|>', ''));
    const rs = r['steps'] as { token: string; prob: number }[];
    const ls = l['steps'] as { token: string; prob: number }[];
    expect(rs.map((s) => s.token)).toEqual(ls.map((s) => s.token));
    rs.forEach((s, i) => expect(Math.abs(s.prob - (ls[i]?.prob ?? 0))).toBeLessThan(1e-5));
    expect(r['stop_reason']).toBe(l['stop_reason']);
  });

  it('several seeds and settings: the served tokens equal a local run of the same chain', async () => {
    const client = new RemoteClient({ baseUrl: url, model: 'seed-world' });
    const ids = local.tokenizer.encode(PROMPT);
    for (const [request, settings] of [
      [{ temperature: 1.2, top_p: 0.8, seed: 11 }, { temperature: 1.2, topP: 0.8 }],
      [{ temperature: 0.7, min_p: 0.05, seed: 12 }, { temperature: 0.7, minP: 0.05 }],
      [{ temperature: 0 }, { greedy: true }],
    ] as const) {
      const completion = await client.stream({ prompt: PROMPT, max_tokens: 10, logprobs: 1, ...request });
      const state = await generate(local, ids, { strategy: SamplerSettings.parse(settings), seed: 'seed' in request ? request.seed : 0, maxTokens: 10 });
      expect(completion.tokens?.map((t) => t.token)).toEqual(state.steps.map((s) => s.token));
    }
  });

  it('ntl generate reports the settings a completions server does not take, never drops them silently', async () => {
    const r = await ntlJson('generate', ...remote(), '--prompt', PROMPT, '--temperature', '0.8', '--typical-p', '0.9', '--mirostat-tau', '5', '--seed', '1', '--max-tokens', '2');
    expect(r['sent']).toEqual({ temperature: 0.8 });
    expect((r['not_applied'] as { flag: string }[]).map((n) => n.flag)).toEqual(['--typical-p', '--mirostat-tau']);
    const text = await ntl('generate', ...remote(), '--prompt', PROMPT, '--typical-p', '0.9', '--max-tokens', '1');
    expect(text.stdout).toContain('not applied by this server: --typical-p');
  });

  it('ntl surprisal: local from one forward pass, remote through echo + logprobs, the same numbers', async () => {
    const prompt = 'The sun rises in the east';
    const [r, l] = await Promise.all([ntlJson('surprisal', ...remote(), '--prompt', prompt, '--top', '5'), ntlJson('surprisal', '--prompt', prompt, '--top', '5')]);
    expect(l['source']).toBe('onnx');
    expect(r['source']).toBe('remote');
    type Expected = { token: string; prob: number }[] | null;
    const rt = r['tokens'] as { id: number; text: string; prob: number | null; rank: number | null; expected: Expected }[];
    const lt = l['tokens'] as { id: number; text: string; prob: number | null; rank: number; expected: Expected }[];
    rt.forEach((t, i) => {
      const mine = lt[i]?.expected ?? null;
      expect(t.expected?.slice(0, 5).map((e) => e.token) ?? null).toEqual(mine?.map((e) => e.token) ?? null);
      t.expected?.slice(0, 5).forEach((e, j) => expect(Math.abs(e.prob - (mine?.[j]?.prob ?? 0))).toBeLessThan(1e-5));
    });
    expect(rt.map((t) => [t.id, t.text])).toEqual(lt.map((t) => [t.id, t.text]));
    expect(lt[0]?.prob).toBeNull();
    rt.forEach((t, i) => {
      const mine = lt[i];
      if (t.prob === null || mine?.prob === null || mine === undefined) return expect(i).toBe(0);
      expect(Math.abs(t.prob - mine.prob)).toBeLessThan(1e-5);
      expect(t.rank).toBe(mine.rank <= 5 ? mine.rank : null);
    });
    expect(Math.abs((r['mean_bits'] as number) - (l['mean_bits'] as number))).toBeLessThan(1e-4);
  });

  it('ntl compare: each column sampled by the server equals the local column; settings no server takes are named on the column', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ntl-remote-compare-'));
    const spec = join(dir, 'spec.json');
    await writeFile(spec, JSON.stringify({
      prompt: PROMPT,
      maxTokens: 6,
      columns: [
        { name: 'greedy', seed: 1, strategy: { strategy: 'greedy' } },
        { name: 'top-p', seed: 9, settings: { temperature: 1.1, topP: 0.9 } },
        { name: 'typical', seed: 3, settings: { temperature: 0.8, typicalP: 0.9, mirostatTau: 5 } },
      ],
    }));
    const [r, l] = await Promise.all([ntlJson('compare', ...remote(), '--spec', spec), ntlJson('compare', '--spec', spec)]);
    expect(r['source']).toBe('remote');
    type Column = { name: string; text: string; steps: { token: string; prob: number }[]; sent?: Record<string, number>; not_applied?: { setting: string; reason: string }[] };
    const rc = r['columns'] as Column[];
    const lc = l['columns'] as Column[];
    expect(rc.map((c) => c.name)).toEqual(['greedy', 'top-p', 'typical']);
    for (const i of [0, 1]) {
      expect(rc[i]?.text).toBe(lc[i]?.text);
      rc[i]?.steps.forEach((s, j) => expect(Math.abs(s.prob - (lc[i]?.steps[j]?.prob ?? 0))).toBeLessThan(1e-5));
    }
    expect(rc[0]?.sent).toEqual({ temperature: 0 });
    expect(rc[1]?.sent).toEqual({ temperature: 1.1, top_p: 0.9 });
    expect(rc[1]?.not_applied).toEqual([]);
    expect(rc[2]?.sent).toEqual({ temperature: 0.8 });
    expect(rc[2]?.not_applied?.map((n) => n.setting)).toEqual(['typical-p', 'Mirostat']);
    expect(rc[2]?.not_applied?.[0]?.reason).toMatch(/^not applied by this server/);
    const text = await ntl('compare', ...remote(), '--spec', spec);
    expect(text.stdout).toContain('not applied by this server: typical-p');
    await writeFile(spec, JSON.stringify({ prompt: PROMPT, columns: [{ name: 'beam', beam: { width: 2 } }] }));
    expect((await ntl('compare', ...remote(), '--spec', spec)).stderr).toBe('ntl: column "beam": a completions server does not run the lab\'s beam search\n');
  });

  it('ntl run: a notebook saved on a served model runs there with its URL; the cells a server cannot show say why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ntl-remote-run-'));
    const file = join(dir, 'served.ntl.json');
    const doc = JSON.parse(await readFile(join(projectRoot, 'tests', 'node', 'fixtures', 'sun.ntl.json'), 'utf8')) as Record<string, unknown>;
    const [r, l] = await Promise.all([
      (async () => {
        await writeFile(file, JSON.stringify({ ...doc, model: { id: 'remote:seed-world', sha256: null, baseUrl: `${url}/v1` } }));
        return ntl('run', file, '--json');
      })(),
      ntlJson('run', join(projectRoot, 'tests', 'node', 'fixtures', 'sun.ntl.json')),
    ]);
    expect(r.stderr).toBe('ntl: 2 cells failed (see their "error")\n');
    const json = JSON.parse(r.stdout) as { source: string; model: { id: string; base_url: string }; cells: { id: string; result?: Record<string, unknown>; error?: string }[] };
    expect(json.source).toBe('remote');
    expect(json.model).toMatchObject({ id: 'remote:seed-world', base_url: url });
    const cell = (id: string, cells: { id: string; result?: Record<string, unknown>; error?: string }[]) => cells.find((c) => c.id === id);
    const lc = l['cells'] as { id: string; result?: Record<string, unknown> }[];
    expect(cell('c1', json.cells)?.result?.['tokens']).toEqual(cell('c1', lc)?.result?.['tokens']);
    expect(cell('c2', json.cells)?.error).toMatch(/server does not return embeddings/);
    expect(cell('c3', json.cells)?.error).toMatch(/server does not return attention weights/);
    // With return_tokens_as_token_ids the alternatives carry their ids, named by /detokenize.
    const rTop = cell('c4', json.cells)?.result?.['top'] as { id: number | null; token: string; prob: number }[];
    const lTop = cell('c4', lc)?.result?.['top'] as { id: number; token: string; prob: number }[];
    expect(rTop.map((t) => t.token)).toEqual(lTop.map((t) => t.token));
    expect(rTop.map((t) => t.id)).toEqual(lTop.map((t) => t.id));
    rTop.forEach((t, i) => expect(Math.abs(t.prob - (lTop[i]?.prob ?? 0))).toBeLessThan(1e-5));
    expect(cell('c4', json.cells)?.result?.['entropy_scope']).toBe('top-k');
    expect(cell('c5', json.cells)?.result?.['generated']).toBe(cell('c5', lc)?.result?.['generated']);
    expect(await readFile(file, 'utf8')).not.toMatch(/key/i);
    expect((await ntl('run', join(projectRoot, 'tests', 'node', 'fixtures', 'sun.ntl.json'), '--base-url', url)).stderr).toBe('ntl: --base-url: only for a notebook on a served model (model "remote:NAME")\n');
  });

  it('a command that needs what a server cannot show says so', async () => {
    const run = await ntl('attention', ...remote(), '--prompt', PROMPT);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^ntl: attention: not for a remote model/);
    const temp = await ntl('predict', ...remote(), '--prompt', PROMPT, '--temperature', '2');
    expect(temp.stderr).toMatch(/^ntl: --temperature: a server returns the top-K log-probabilities at temperature 1/);
    expect((await ntl('predict', '--prompt', PROMPT, '--base-url', url)).stderr).toBe('ntl: --base-url: only with --model remote:NAME\n');
  });
});

describe('ntl serve-openai, the command', () => {
  it('serves on 127.0.0.1 at the port asked for (0: any free one) and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'ntl.mjs'), 'serve-openai', '--port', '0', '--model', 'seed-world'], { cwd: projectRoot });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const base = /at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(line)?.[1];
    expect(base).toBeDefined();
    const models = (await (await fetch(`${base}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['seed-world']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
