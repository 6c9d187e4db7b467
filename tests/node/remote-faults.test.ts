import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/node/openai-client';
import { isPlainHttpAway } from '../../src/cli/remote-commands';
import { projectRoot, type Run } from './helpers';

/**
 * Each fault a served model can give, produced by a tiny local server on 127.0.0.1: `ntl` fails with
 * one line on stderr that names the server and the cause, and a non-zero exit code.
 */

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;
let handler: Handler = (_request, response) => response.end();
let seen: { url: string; authorization: string | undefined; body: string }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (d: Buffer) => (body += d.toString()));
    request.on('end', () => {
      seen.push({ url: request.url ?? '', authorization: request.headers.authorization, body });
      handler(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function ntl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(projectRoot, 'bin', 'ntl.mjs'), ...args], { cwd: projectRoot, timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error && typeof error.code === 'number' ? error.code : error ? 1 : 0, stdout, stderr });
    });
  });
}

const json = (response: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void => {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(JSON.stringify(data));
};

/** `ntl predict` against the fault server; its one error line. */
async function predictError(handle: Handler, extra: string[] = []): Promise<string> {
  handler = handle;
  seen = [];
  const run = await ntl(['predict', '--model', 'remote:m', '--base-url', `${base}/v1`, '--prompt', 'hi', '--top', '3', ...extra]);
  expect(run.stdout).toBe('');
  expect(run.code).toBe(1);
  expect(run.stderr.split('\n')).toHaveLength(2);
  return run.stderr.trim();
}

const top = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, -1 - i]));
const completion = (n: number): unknown => ({ choices: [{ text: 't0', finish_reason: 'length', logprobs: { tokens: ['t0'], token_logprobs: [-1], top_logprobs: [top(n)], text_offset: [0] } }] });

describe('faults of a served model', () => {
  it('sends the key from NTL_API_KEY as a bearer token, and works when all is well', async () => {
    handler = (_q, r) => json(r, 200, completion(3));
    seen = [];
    const run = await ntl(['predict', '--model', 'remote:m', '--base-url', base, '--prompt', 'hi', '--top', '3', '--json'], { NTL_API_KEY: 'sekrit' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ source: 'remote', model: 'm', top: [{ token: 't0' }, { token: 't1' }, { token: 't2' }], entropy_scope: 'top-k' });
    expect(seen[0]).toMatchObject({ url: '/v1/completions', authorization: 'Bearer sekrit' });
    expect(JSON.parse(seen[0]?.body ?? '{}')).toMatchObject({ model: 'm', prompt: 'hi', max_tokens: 1, logprobs: 3 });
  });

  it('refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise((resolve) => closed.close(resolve));
    const run = await ntl(['predict', '--model', 'remote:m', '--base-url', `http://127.0.0.1:${port}/v1`, '--prompt', 'hi']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`ntl: server http://127.0.0.1:${port}: connection refused (is the server running on that port?)\n`);
  });

  it('401 and 403', async () => {
    expect(await predictError((_q, r) => json(r, 401, { error: { message: 'Invalid API key', type: 'invalid_request_error', code: 'invalid_api_key' } }))).toBe(
      `ntl: server ${base}: the API key was refused (401: Invalid API key); set NTL_API_KEY`,
    );
    expect(await predictError((_q, r) => json(r, 403, { detail: 'Forbidden' }))).toBe(`ntl: server ${base}: access denied (403: Forbidden); set NTL_API_KEY`);
  });

  it('404: the model is not served', async () => {
    expect(await predictError((_q, r) => json(r, 404, { error: { message: 'The model `m` does not exist.', type: 'NotFoundError', code: 404 } }))).toBe(
      `ntl: server ${base}: not found (404: The model \`m\` does not exist.) at /v1/completions; is "m" a model it serves (GET ${base}/v1/models)?`,
    );
  });

  it('429 with Retry-After', async () => {
    expect(await predictError((_q, r) => json(r, 429, { error: { message: 'Rate limit reached' } }, { 'Retry-After': '7' }))).toBe(
      `ntl: server ${base}: too many requests (429: Rate limit reached); retry after 7 s`,
    );
  });

  it('5xx, with a JSON error or a plain-text body', async () => {
    expect(await predictError((_q, r) => json(r, 500, { error: { message: 'CUDA out of memory' } }))).toBe(`ntl: server ${base}: server error 500: CUDA out of memory`);
    expect(
      await predictError((_q, r) => {
        r.writeHead(502, { 'Content-Type': 'text/html' });
        r.end('Bad Gateway\n<html>...');
      }),
    ).toBe(`ntl: server ${base}: server error 502: Bad Gateway`);
  });

  it('malformed JSON', async () => {
    expect(
      await predictError((_q, r) => {
        r.writeHead(200, { 'Content-Type': 'application/json' });
        r.end('{"choices": [');
      }),
    ).toBe(`ntl: server ${base}: malformed JSON in the answer to /v1/completions (starts "{\\"choices\\": [")`);
  });

  it('a response over 16 MiB, declared or streamed without a length', async () => {
    const size = 16 * 1024 * 1024 + 10;
    expect(
      await predictError((_q, r) => {
        r.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(size) });
        r.end();
      }),
    ).toBe(`ntl: server ${base}: the response of ${size} bytes is larger than 16 MiB`);
    expect(
      await predictError((_q, r) => {
        r.writeHead(200, { 'Content-Type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        for (let i = 0; i < 17; i++) r.write(chunk);
        r.end();
      }),
    ).toBe(`ntl: server ${base}: the response is larger than 16 MiB`);
  });

  it('fewer log-probabilities than asked', async () => {
    expect(await predictError((_q, r) => json(r, 200, completion(2)))).toBe(
      `ntl: server ${base}: returned 2 log-probabilities for the next token where 3 were asked (vLLM allows 20 unless started with a larger --max-logprobs)`,
    );
  });

  it('no log-probabilities at all (Ollama\'s completions)', async () => {
    expect(await predictError((_q, r) => json(r, 200, { choices: [{ text: 'x', finish_reason: 'length' }] }))).toBe(
      `ntl: server ${base}: returned no log-probabilities (does it support "logprobs" on /v1/completions?)`,
    );
  });

  it('a timeout', async () => {
    expect(await predictError(() => undefined, ['--timeout', '0.5'])).toBe(`ntl: server ${base}: no answer within 0.5 s (timed out)`);
  });

  it('a timeout kept in the notebook: ntl run waits that long, not 60 s', async () => {
    handler = () => undefined;
    const dir = await mkdtemp(join(tmpdir(), 'ntl-remote-timeout-'));
    const file = join(dir, 'slow.ntl.json');
    const doc = JSON.parse(await readFile(join(projectRoot, 'tests', 'node', 'fixtures', 'sun.ntl.json'), 'utf8')) as { cells: { kind: string }[] };
    await writeFile(file, JSON.stringify({ ...doc, cells: doc.cells.filter((c) => c.kind === 'predict'), model: { id: 'remote:m', sha256: null, baseUrl: `${base}/v1`, timeoutS: 1 } }));
    const run = await ntl(['run', file, '--json']);
    const json = JSON.parse(run.stdout) as { cells: { error?: string }[] };
    expect(json.cells[0]?.error).toBe(`server ${base}: no answer within 1 s (timed out)`);
  });

  it('a stream cut in the middle (no [DONE])', async () => {
    handler = (_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/event-stream' });
      r.write(`data: ${JSON.stringify({ choices: [{ text: 'a', finish_reason: null, logprobs: null }] })}\n\n`);
      r.end();
    };
    const run = await ntl(['generate', '--model', 'remote:m', '--base-url', base, '--prompt', 'hi']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`ntl: server ${base}: the stream was cut before it finished (no [DONE])\n`);
  });

  it('tokenize falls back to echo where the server has no /tokenize', async () => {
    handler = (request, r) => {
      if (request.url === '/tokenize') return json(r, 404, { detail: 'Not Found' });
      return json(r, 200, { choices: [{ text: 'hi there', finish_reason: 'length', logprobs: { tokens: ['hi', ' there'], token_logprobs: [null, -2], top_logprobs: [null, {}] } }] });
    };
    const run = await ntl(['tokenize', '--model', 'remote:m', '--base-url', base, '--prompt', 'hi there', '--json']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ source: 'remote', count: 2, tokens: [{ id: null, text: 'hi' }, { id: null, text: ' there' }], tokenized_by: 'echo' });
  });

  it('idempotent requests (the model list, /tokenize) retry 429 and 503 after Retry-After; completions do not', async () => {
    let calls = 0;
    handler = (request, r) => {
      calls++;
      if (calls === 1) return json(r, 503, { error: { message: 'loading' } }, { 'Retry-After': '0' });
      if (calls === 2) return json(r, 429, { error: { message: 'busy' } }, { 'Retry-After': '0' });
      return request.url === '/tokenize' ? json(r, 200, { tokens: [1, 2], count: 2, max_model_len: 8 }) : json(r, 200, { data: [{ id: 'm' }] });
    };
    const client = new RemoteClient({ baseUrl: base, model: 'm' });
    expect((await client.tokenize('a b'))?.ids).toEqual([1, 2]);
    expect(calls).toBe(3);
    calls = 0;
    expect(await client.models()).toEqual([{ id: 'm', maxModelLen: null }]);
    calls = 0;
    await expect(client.complete({ prompt: 'x' })).rejects.toThrow(`server ${base}: server error 503: loading`);
    expect(calls).toBe(1);
  });

  it('warns of plain http:// to another machine only', () => {
    expect(isPlainHttpAway('http://10.0.0.5:8000/v1')).toBe(true);
    expect(isPlainHttpAway('http://gpu-box.lan:8000')).toBe(true);
    expect(isPlainHttpAway('https://gpu-box.lan:8000')).toBe(false);
    expect(isPlainHttpAway('http://127.0.0.1:8000')).toBe(false);
    expect(isPlainHttpAway('http://localhost:8000')).toBe(false);
    expect(isPlainHttpAway('http://[::1]:8000')).toBe(false);
  });

  it('the client: a streamed error event and the size cap, without a subprocess', async () => {
    handler = (_q, r) => {
      r.writeHead(200, { 'Content-Type': 'text/event-stream' });
      r.end(`data: ${JSON.stringify({ error: { message: 'engine died' } })}\n\n`);
    };
    const client = new RemoteClient({ baseUrl: base, model: 'm', maxResponseBytes: 1024 });
    await expect(client.stream({ prompt: 'x' })).rejects.toThrow(`server ${base}: error in the stream: engine died`);
    handler = (_q, r) => json(r, 200, { data: [{ id: 'x'.repeat(2000) }] });
    await expect(client.models()).rejects.toThrow(/larger than/);
  });
});
