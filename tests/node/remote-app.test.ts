import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC } from '../../src/common/api';
import { NotebookDoc, formatNotebook } from '../../src/common/notebook-format';
import { SamplerSettings } from '../../src/common/sampler-settings';
import { predictResult } from '../../src/engine/cell-results';
import type { OnnxModel } from '../../src/engine/session';
import { promptSurprisal } from '../../src/engine/surprisal';
import { createRegistry, loadModel } from '../../src/cli/model-host';
import { handleIpc, type IpcServices } from '../../src/main/ipc';
import { ModelImporter } from '../../src/node/model-import';
import { startOpenAiServer } from '../../src/node/openai-server';
import { RemoteKeyStore, type SafeStorageLike } from '../../src/node/remote-key-store';
import { RemoteService, envKeys } from '../../src/node/remote-service';
import { NotebookStore } from '../../src/node/notebook-store';
import { createServer } from '../../src/server/create-server';
import { tempDir } from './helpers';

/**
 * A served model in the app, below the page: the browser build's `/api/remote/...` routes and the
 * desktop app's `remote:*` IPC channels, against `ntl serve-openai` with the bundled seed-world
 * (numbers compared with the model run here) and against small servers that record what reaches
 * them (the key, a closed stream).
 */

const PROMPT = 'The sun rises in the';
const KEY = 'sk-test-5f1c0ffee-never-written';
let local: OnnxModel;
let served: OnnxModel;
let openai: Server;
let openaiUrl = '';
let app: { close(): Promise<void> };
let appUrl = '';

/** A server that records every request's Authorization header and answers like a completions server; `/v1/completions` with `stream` sends one token and then waits until the client goes. */
interface Recorder {
  url: string;
  authorizations: (string | undefined)[];
  firstChunkSent: Promise<void>;
  streamClosed: Promise<void>;
  close(): Promise<void>;
}

async function recorder(): Promise<Recorder> {
  const authorizations: (string | undefined)[] = [];
  let sent: () => void = () => undefined;
  let closed: () => void = () => undefined;
  const firstChunkSent = new Promise<void>((resolve) => (sent = resolve));
  const streamClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    authorizations.push(request.headers.authorization);
    if (request.url === '/v1/models') {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: 'big-model', object: 'model', max_model_len: 8192 }] }));
      return;
    }
    if (request.url === '/v1/completions') {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const chunk = { choices: [{ index: 0, text: ' east', finish_reason: null, logprobs: { tokens: [' east'], token_logprobs: [-0.1], top_logprobs: [{ ' east': -0.1, ' west': -2.5 }], text_offset: [0] } }] };
      response.write(`data: ${JSON.stringify(chunk)}\n\n`, () => sent());
      response.on('close', () => closed());
      return;
    }
    response.writeHead(404, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ error: { message: 'no such path' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    authorizations,
    firstChunkSent,
    streamClosed,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function api(path: string, body: unknown, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${appUrl}/api/remote/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), ...init });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const registry = createRegistry();
  const info = await registry.resolve('seed-world');
  local = (await loadModel(info, { backend: 'wasm', threads: 1, cache: true })).engine;
  served = (await loadModel(info, { backend: 'wasm', threads: 1, cache: true })).engine;
  ({ server: openai, url: openaiUrl } = await startOpenAiServer({ models: [{ id: 'seed-world', context: info.context }], load: async () => served }, 0));
  const renderer = await tempDir('remote-renderer');
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>Next Token Lab</title>');
  const workspace = await tempDir('remote-workspace');
  const userModels = await tempDir('remote-user-models');
  await mkdir(userModels, { recursive: true });
  const server = createServer({ rendererDir: renderer, registry, importer: new ModelImporter(userModels, registry), store: new NotebookStore(workspace), remote: new RemoteService(envKeys({})) });
  const port = await server.listen(0);
  app = server;
  appUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app.close();
  await new Promise((resolve) => openai.close(resolve));
  await local.release();
  await served.release();
});

describe('the browser build: /api/remote/... asked by the serve process', () => {
  it('lists the served models, with where the key comes from and no warning for this machine', async () => {
    const { status, body } = await api('models', { baseUrl: `${openaiUrl}/v1` });
    expect(status).toBe(200);
    expect(body).toEqual({ root: openaiUrl, models: [{ id: 'seed-world', maxModelLen: 128 }], keySource: 'none', canStoreKey: false, warning: null });
  });

  it('predict: the top K of the local model within 1e-5, the rest as one mass', async () => {
    const { status, body } = await api('predict', { baseUrl: openaiUrl, model: 'seed-world', prompt: PROMPT, topK: 5 });
    expect(status).toBe(200);
    const top = body['top'] as { token: string; prob: number }[];
    const expected = predictResult((await local.forward(local.tokenizer.encode(PROMPT), false)).lastLogits, 5).top;
    expect(top.map((t) => t.token)).toEqual(expected.map((t) => local.tokenizer.piece(t.id).text));
    top.forEach((t, i) => expect(Math.abs(t.prob - (expected[i]?.prob ?? 0))).toBeLessThan(1e-5));
    expect(Math.abs((body['otherMass'] as number) - (1 - expected.reduce((a, t) => a + t.prob, 0)))).toBeLessThan(1e-5);
  });

  it('surprisal: every prompt token\'s probability equal to the local forward pass within 1e-5', async () => {
    const prompt = 'The sun rises in the east';
    const { body } = await api('surprisal', { baseUrl: openaiUrl, model: 'seed-world', prompt, topK: 5 });
    const rows = body['rows'] as { prob: number | null; rank: number | null }[];
    const ids = local.tokenizer.encode(prompt);
    const { logits, vocab } = await local.positionLogits(ids);
    const mine = promptSurprisal(ids, logits, vocab);
    expect(rows).toHaveLength(ids.length);
    rows.forEach((r, i) => {
      const m = mine[i];
      if (r.prob === null || m?.prob === null || m === undefined) return expect(i).toBe(0);
      expect(Math.abs(r.prob - m.prob)).toBeLessThan(1e-5);
      expect(r.rank).toBe(m.rank !== null && m.rank <= 5 ? m.rank : null);
    });
  });

  it('generate: a seeded column as the local chain samples it; tokenize: the local ids', async () => {
    const settings = SamplerSettings.parse({ temperature: 0.9, topK: 5 });
    const { body } = await api('generate', { baseUrl: openaiUrl, model: 'seed-world', requestId: 'col-a', prompt: PROMPT, settings, seed: 7, maxTokens: 6 });
    const { generate } = await import('../../src/engine/generate');
    const state = await generate(local, local.tokenizer.encode(PROMPT), { strategy: settings, seed: 7, maxTokens: 6 });
    expect(body['generated']).toBe(state.steps.map((s) => s.token).join(''));
    expect(body['sent']).toEqual({ temperature: 0.9, top_k: 5 });
    const tokens = await api('tokenize', { baseUrl: openaiUrl, model: 'seed-world', prompt: PROMPT });
    expect((tokens.body['tokens'] as { id: number }[]).map((t) => t.id)).toEqual(local.tokenizer.encode(PROMPT));
    expect(tokens.body['via']).toBe('tokenize');
  });

  it('refuses a bad request by field, and a server address that is not http(s)', async () => {
    const k = await api('predict', { baseUrl: openaiUrl, model: 'seed-world', prompt: PROMPT, topK: 50 });
    expect(k.status).toBe(400);
    expect(k.body['error']).toBe('bad request: field "topK": a server gives at most 20 log-probabilities (vLLM\'s default limit)');
    const ftp = await api('models', { baseUrl: 'file:///etc/passwd' });
    expect(ftp.status).toBe(400);
    expect(ftp.body['error']).toMatch(/^bad request: field "baseUrl": the server address must be an http:\/\/ or https:\/\/ URL/);
    const extra = await api('models', { baseUrl: openaiUrl, apiKey: 'x' });
    expect(extra.status).toBe(400);
    const gone = await recorder();
    await gone.close();
    // The server's fault is what the request found out: 200 with the cause (no console error in the page).
    const down = await api('models', { baseUrl: gone.url, timeoutS: 5 });
    expect(down.status).toBe(200);
    expect(down.body['fault']).toBe(`server ${gone.url.replace(/\/v1$/, '')}: connection refused (is the server running on that port?)`);
    expect((await fetch(`${appUrl}/api/remote/predict`)).status).toBe(405);
  });

  it('Cancel by request id in the middle of a stream: the stream closed, the step already streamed answered', async () => {
    const slow = await recorder();
    try {
      const remote = new RemoteService(envKeys({}));
      const closing = createServer({ rendererDir: '/nonexistent', registry: createRegistry(), importer: new ModelImporter(await tempDir('remote-cancel-models'), createRegistry()), store: new NotebookStore(await tempDir('remote-cancel-ws')), remote });
      const port = await closing.listen(0);
      try {
        const post = (verb: string, body: unknown): Promise<Response> => fetch(`http://127.0.0.1:${port}/api/remote/${verb}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        const pending = post('generate', { baseUrl: slow.url, model: 'big-model', requestId: 'mid', prompt: PROMPT, settings: SamplerSettings.parse({ greedy: true }), seed: 1, maxTokens: 100 });
        await expect.poll(() => remote.streamedSteps('mid'), { timeout: 30_000 }).toBe(1);
        // What a running column shows: the steps streamed in so far.
        expect(await (await post('progress', { requestId: 'mid' })).json()).toEqual({ steps: [{ id: null, token: ' east', prob: Math.exp(-0.1), rank: 1, top: [{ id: null, token: ' east', prob: Math.exp(-0.1) }, { id: null, token: ' west', prob: Math.exp(-2.5) }] }] });
        expect((await post('cancel', { requestId: 'mid' })).status).toBe(200);
        await slow.streamClosed;
        const answer = (await (await pending).json()) as { stopReason: string; generated: string; steps: unknown[] };
        expect(await (await post('progress', { requestId: 'mid' })).json()).toBeNull();
        expect(answer).toMatchObject({ stopReason: 'cancelled', generated: ' east' });
        expect(answer.steps).toHaveLength(1);
        // A cancel that comes before its generation stops it as soon as it starts.
        expect((await post('cancel', { requestId: 'early' })).status).toBe(200);
        const early = (await (await post('generate', { baseUrl: openaiUrl, model: 'seed-world', requestId: 'early', prompt: PROMPT, settings: SamplerSettings.parse({ greedy: true }), seed: 1, maxTokens: 8 })).json()) as { stopReason: string; steps: unknown[] };
        expect(early).toMatchObject({ stopReason: 'cancelled', steps: [] });
      } finally {
        await closing.close();
      }
    } finally {
      await slow.close();
    }
  });

  it('Cancel: the page closing its generate request closes the server\'s stream at once', async () => {
    const slow = await recorder();
    try {
      const controller = new AbortController();
      const pending = api('generate', { baseUrl: slow.url, model: 'big-model', requestId: 'cancel-me', prompt: PROMPT, settings: SamplerSettings.parse({ greedy: true }), seed: 1, maxTokens: 100 }, { signal: controller.signal }).catch((cause: unknown) => cause);
      await slow.firstChunkSent;
      controller.abort();
      await slow.streamClosed;
      expect(await pending).toBeInstanceOf(Error);
    } finally {
      await slow.close();
    }
  });
});

/** Encrypts by reversing and tagging: enough to show that what is written is not the key. */
const fakeSafeStorage = (available = true): SafeStorageLike => ({
  isEncryptionAvailable: () => available,
  encryptString: (plain) => Buffer.from(`enc:${[...plain].reverse().join('')}`),
  decryptString: (encrypted) => {
    const text = encrypted.toString();
    if (!text.startsWith('enc:')) throw new Error('not ours');
    return [...text.slice(4)].reverse().join('');
  },
});

describe('the desktop app: remote:* IPC channels with the key in the encrypted store', () => {
  /** A stand-in for Electron's event: only the frame the wrapper checks (not Electron's own object). */
  const eventFrom = (url: string): Parameters<typeof handleIpc>[3] => ({ senderFrame: { url, parent: null } }) as unknown as Parameters<typeof handleIpc>[3];
  const event = eventFrom('app://local/index.html');
  const trusted = (url: string): boolean => url.startsWith('app://local/');

  async function services(): Promise<{ services: IpcServices; keyFile: string }> {
    const dir = await tempDir('remote-keys');
    const keyFile = join(dir, 'remote-keys.json');
    const keys = new RemoteKeyStore(keyFile, fakeSafeStorage(), {});
    const partial = { remote: new RemoteService(keys), remoteKeys: keys };
    return { services: partial as unknown as IpcServices, keyFile };
  }

  it('keeps the key encrypted, sends it only to its server, and never answers it to the page', async () => {
    const server = await recorder();
    try {
      const { services: s, keyFile } = await services();
      const before = (await handleIpc(s, trusted, IPC.remoteModels, event, { baseUrl: server.url })) as Record<string, unknown>;
      expect(before['keySource']).toBe('none');
      expect(before['canStoreKey']).toBe(true);
      expect(await handleIpc(s, trusted, IPC.remoteSetKey, event, { baseUrl: server.url, key: KEY })).toEqual({ keySource: 'stored' });
      const file = await readFile(keyFile, 'utf8');
      expect(file).not.toContain(KEY);
      expect(Object.keys(JSON.parse(file) as object)).toEqual([server.url.replace(/\/v1$/, '')]);
      const after = await handleIpc(s, trusted, IPC.remoteModels, event, { baseUrl: server.url });
      expect(JSON.stringify(after)).not.toContain(KEY);
      expect(after).toMatchObject({ keySource: 'stored', models: [{ id: 'big-model', maxModelLen: 8192 }] });
      expect(server.authorizations).toEqual([undefined, `Bearer ${KEY}`]);
      // Another server does not get this server's key.
      const other = await recorder();
      try {
        await handleIpc(s, trusted, IPC.remoteModels, event, { baseUrl: other.url });
        expect(other.authorizations).toEqual([undefined]);
      } finally {
        await other.close();
      }
      expect(await handleIpc(s, trusted, IPC.remoteSetKey, event, { baseUrl: server.url, key: '' })).toEqual({ keySource: 'none' });
      expect(JSON.parse(await readFile(keyFile, 'utf8'))).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('a server that wants a key: refused with what to do, then answered once the key is kept', async () => {
    const guarded = createHttpServer((request, response) => {
      const isKey = request.headers.authorization === `Bearer ${KEY}`;
      response.writeHead(isKey ? 200 : 401, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(isKey ? { object: 'list', data: [{ id: 'big-model' }] } : { error: { message: 'Invalid API key' } }));
    });
    await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve));
    const address = guarded.address();
    const root = `http://127.0.0.1:${address !== null && typeof address === 'object' ? address.port : 0}`;
    try {
      const { services: s } = await services();
      await expect(handleIpc(s, trusted, IPC.remoteModels, event, { baseUrl: root })).rejects.toThrow(
        `server ${root}: the API key was refused (401: Invalid API key); enter its API key under Models… → Add a served model (or start the app with NTL_API_KEY set)`,
      );
      await handleIpc(s, trusted, IPC.remoteSetKey, event, { baseUrl: root, key: KEY });
      expect(await handleIpc(s, trusted, IPC.remoteModels, event, { baseUrl: root })).toMatchObject({ keySource: 'stored', models: [{ id: 'big-model', maxModelLen: null }] });
      // The browser build names its only source of keys.
      const browser = await new RemoteService(envKeys({})).models({ baseUrl: root }).catch((cause: unknown) => cause);
      expect(browser).toBeInstanceOf(Error);
      expect((browser as Error).message).toBe(`server ${root}: the API key was refused (401: Invalid API key); set NTL_API_KEY in the environment of npm run serve`);
    } finally {
      await new Promise((resolve) => guarded.close(resolve));
    }
  });

  it('refuses a key the keychain cannot encrypt, a key with spaces, a bad address, and a call from another page', async () => {
    const dir = await tempDir('remote-keys-off');
    const keys = new RemoteKeyStore(join(dir, 'remote-keys.json'), fakeSafeStorage(false), {});
    const s = { remote: new RemoteService(keys), remoteKeys: keys } as unknown as IpcServices;
    await expect(handleIpc(s, trusted, IPC.remoteSetKey, event, { baseUrl: 'http://127.0.0.1:1/v1', key: KEY })).rejects.toThrow(/^the system keychain is not available, so the key cannot be stored encrypted/);
    await expect(handleIpc(s, trusted, IPC.remoteSetKey, event, { baseUrl: 'http://127.0.0.1:1/v1', key: 'two words' })).rejects.toThrow('remote:set-key: bad request: field "key": the key has spaces or characters outside printable ASCII');
    await expect(handleIpc(s, trusted, IPC.remotePredict, event, { baseUrl: 'javascript:alert(1)', model: 'm', prompt: 'p' })).rejects.toThrow(/^remote:predict: bad request: field "baseUrl"/);
    await expect(handleIpc(s, trusted, IPC.remoteModels, eventFrom('https://evil.example/'), { baseUrl: 'http://127.0.0.1:1/v1' })).rejects.toThrow(/refused a call from https:\/\/evil\.example/);
  });

  it('Cancel by request id stops the stream and keeps the step already streamed', async () => {
    const slow = await recorder();
    try {
      const { services: s } = await services();
      const remote = s.remote;
      const pending = handleIpc(s, trusted, IPC.remoteGenerate, event, { baseUrl: slow.url, model: 'big-model', requestId: 'col-b', prompt: PROMPT, settings: SamplerSettings.parse({ greedy: true }), seed: 1, maxTokens: 100 });
      await expect.poll(() => remote.streamedSteps('col-b'), { timeout: 30_000 }).toBe(1);
      await handleIpc(s, trusted, IPC.remoteCancel, event, { requestId: 'col-b' });
      await slow.streamClosed;
      const answer = (await pending) as { stopReason: string; steps: { token: string; prob: number }[]; generated: string };
      expect(answer.stopReason).toBe('cancelled');
      expect(answer.generated).toBe(' east');
      expect(answer.steps).toHaveLength(1);
      expect(Math.abs((answer.steps[0]?.prob ?? 0) - Math.exp(-0.1))).toBeLessThan(1e-12);
    } finally {
      await slow.close();
    }
  });

  it('a notebook on a served model keeps the server and the model\'s name, never a key', () => {
    const doc = NotebookDoc.parse({
      format: 'next-token-lab-notebook',
      version: 3,
      name: 'Served',
      prompt: PROMPT,
      model: { id: 'remote:big-model', sha256: null, baseUrl: 'https://gpu.example/v1', apiKey: KEY },
      backend: null,
      appVersion: '0.1.0',
      savedAt: '2026-12-05T00:00:00.000Z',
      cells: [],
    });
    const text = formatNotebook(doc);
    expect(text).not.toContain(KEY);
    expect(JSON.parse(text)).toMatchObject({ model: { id: 'remote:big-model', sha256: null, baseUrl: 'https://gpu.example/v1' } });
    expect(NotebookDoc.safeParse({ ...doc, model: { ...doc.model, baseUrl: 'file:///etc/passwd' } }).success).toBe(false);
  });
});
