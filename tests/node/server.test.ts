import { request } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/common/csp';
import { ModelImporter } from '../../src/node/model-import';
import { ModelRegistry } from '../../src/node/model-registry';
import { NotebookStore } from '../../src/node/notebook-store';
import { createServer } from '../../src/server/create-server';
import { tempDir, writeModelFolder } from './helpers';

let base = '';
let port = 0;
let models = '';
let userModels = '';
let uploadSource = '';
let close: () => Promise<void> = async () => undefined;

const isolation = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

function expectIsolated(headers: Headers): void {
  for (const [name, value] of Object.entries(isolation)) expect(headers.get(name), name).toBe(value);
}

/** A raw request, so that paths such as /../x reach the server unnormalised. */
function raw(path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const renderer = await tempDir('renderer');
  await mkdir(join(renderer, 'assets'));
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>Next Token Lab</title>');
  await writeFile(join(renderer, 'assets', 'app.js'), 'export {};');
  await writeFile(join(renderer, 'assets', 'ort.wasm'), Buffer.from([0, 97, 115, 109]));
  await writeFile(join(renderer, 'assets', 'ort-wasm-simd-threaded-DcHrbrbl.wasm'), Buffer.from([0, 97, 115, 109]));
  models = await tempDir('models');
  await writeModelFolder(join(models, 'tiny'));
  await writeFile(join(models, 'tiny', 'secret.txt'), 'no');
  const workspace = await tempDir('workspace');
  workspaceDir = workspace;
  userModels = await tempDir('user-models');
  uploadSource = join(await tempDir('upload-source'), 'uploaded');
  await writeModelFolder(uploadSource);
  const registry = new ModelRegistry([
    { dir: models, source: 'bundled' },
    { dir: userModels, source: 'user' },
  ]);
  const server = createServer({
    rendererDir: renderer,
    registry,
    importer: new ModelImporter(userModels, registry),
    store: new NotebookStore(workspace),
    maxBodyBytes: 64 * 1024,
  });
  port = await server.listen(0);
  base = `http://127.0.0.1:${port}`;
  close = () => server.close();
});

afterAll(() => close());
let workspaceDir = '';

describe('HTTP server of the browser build', () => {
  it('listens on 127.0.0.1 only, on the port it picked', () => {
    expect(port).toBeGreaterThan(0);
  });

  it('serves index.html with the CSP and cross-origin isolation headers', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expectIsolated(res.headers);
    expect(await res.text()).toContain('Next Token Lab');
  });

  it('serves scripts and wasm with their content types', async () => {
    const js = await fetch(`${base}/assets/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-security-policy')).toBeNull();
    expectIsolated(js.headers);
    const wasm = await fetch(`${base}/assets/ort.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
  });

  it('lets the browser keep the build\'s hashed files (and what it compiles from them), and asks again for the rest', async () => {
    const hashed = await fetch(`${base}/assets/ort-wasm-simd-threaded-DcHrbrbl.wasm`);
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(hashed.headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(`${base}/assets/ort.wasm`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${base}/`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${base}/models/tiny/config.json`)).headers.get('cache-control')).toBe('no-cache');
  });

  it("answers a model's file the browser holds unchanged with 304 and no bytes, and sends it again once it changed", async () => {
    const url = `${base}/models/tiny/config.json`;
    const first = await fetch(url);
    const tag = first.headers.get('etag');
    expect(first.status).toBe(200);
    expect(tag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    const text = await first.text();
    const again = await fetch(url, { headers: { 'If-None-Match': `"other", ${tag ?? ''}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(tag);
    // The same size, written again a second later: another modification time, so the file is sent.
    await new Promise((r) => setTimeout(r, 1100));
    await writeFile(join(models, 'tiny', 'config.json'), text);
    const changed = await fetch(url, { headers: { 'If-None-Match': tag ?? '' } });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toBe(text);
    expect(changed.headers.get('etag')).not.toBe(tag);
    expect((await fetch(`${base}/`, { headers: { 'If-None-Match': (await fetch(`${base}/`)).headers.get('etag') ?? '' } })).status).toBe(304);
  });

  it('names its workspace folder and offers no way for a page to open another', async () => {
    const res = await fetch(`${base}/api/workspace`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ dir: workspaceDir, isDefault: false, canChoose: false });
    expect((await fetch(`${base}/api/workspace`, { method: 'POST', body: '{"dir": "/etc"}' })).status).toBe(405);
  });

  it('lists the models', async () => {
    const res = await fetch(`${base}/api/models`);
    expect(res.status).toBe(200);
    expectIsolated(res.headers);
    const body: unknown = await res.json();
    expect(body).toMatchObject({ models: [{ id: 'tiny', layers: 2, heads: 2, vocab: 8 }], problems: [] });
  });

  it('serves a model file with length, type and isolation headers; HEAD too', async () => {
    const onnx = await readFile(join(models, 'tiny', 'onnx', 'model.onnx'));
    const res = await fetch(`${base}/models/tiny/onnx/model.onnx`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(onnx.length));
    expectIsolated(res.headers);
    expect(Buffer.from(await res.arrayBuffer()).equals(onnx)).toBe(true);
    const head = await fetch(`${base}/models/tiny/config.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(head.headers.get('content-length')).toBe(String((await readFile(join(models, 'tiny', 'config.json'))).length));
    expect(await head.text()).toBe('');
  });

  it('refuses other files, traversal and foreign Host headers with a JSON error', async () => {
    const secret = await raw('/models/tiny/secret.txt');
    expect(secret.status).toBe(404);
    expect(JSON.parse(secret.body)).toEqual({ error: 'model "tiny" has no file "secret.txt" to serve' });
    expect(secret.headers['cross-origin-embedder-policy']).toBe('require-corp');
    for (const path of ['/../../etc/passwd', '/assets/../../etc/passwd', '/models/tiny/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/models/tiny/onnx%2f..%2fconfig.json']) {
      const res = await raw(path);
      expect([403, 404], path).toContain(res.status);
      expect(JSON.parse(res.body), path).toHaveProperty('error');
    }
    expect((await raw('/models/nope/config.json')).status).toBe(404);
    expect((await raw('/no-such-file.js')).status).toBe(404);
    const rebound = await raw('/api/models', 'evil.example:80');
    expect(rebound.status).toBe(403);
  });

  it('saves, lists and reads notebooks; refuses bad names, bad bodies and large bodies', async () => {
    const doc = {
      format: 'next-token-lab-notebook',
      version: 3,
      name: 'Over HTTP',
      prompt: 'The sun',
      model: { id: 'tiny', sha256: null },
      backend: null,
      cells: [{ id: 'c1', kind: 'tokenize', params: {} }],
      appVersion: '0.1.0',
      savedAt: '2025-01-01T00:00:00.000Z',
    };
    const put = (file: string, body: string): Promise<Response> =>
      fetch(`${base}/api/notebooks/${encodeURIComponent(file)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
    const saved = await put('http.ntl.json', JSON.stringify(doc));
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({ file: 'http.ntl.json', name: 'Over HTTP' });
    expect(await (await fetch(`${base}/api/notebooks`)).json()).toMatchObject([{ file: 'http.ntl.json', name: 'Over HTTP' }]);
    expect(await (await fetch(`${base}/api/notebooks/http.ntl.json`)).json()).toEqual(doc);
    const badName = await put('../x.ntl.json', JSON.stringify(doc));
    expect(badName.status).toBe(400);
    expect(await badName.json()).toMatchObject({ error: expect.stringContaining('field "file"') });
    const badJson = await put('y.ntl.json', '{');
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: string }).error).toMatch(/^request body is not valid JSON/);
    const big = await put('z.ntl.json', JSON.stringify({ ...doc, prompt: 'x'.repeat(70 * 1024) }));
    expect(big.status).toBe(413);
    const missing = await fetch(`${base}/api/notebooks/none.ntl.json`);
    expect(missing.status).toBe(404);
    const wrongMethod = await fetch(`${base}/api/models`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);

    const created = await fetch(`${base}/api/notebooks/http.ntl.json?create=1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
    expect(created.status).toBe(409);
    const post = (path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(await (await post('/api/notebooks/http.ntl.json/duplicate')).json()).toMatchObject({ file: 'Over HTTP copy.ntl.json' });
    expect(await (await post('/api/notebooks/Over%20HTTP%20copy.ntl.json/rename', { name: 'Renamed' })).json()).toMatchObject({ file: 'Renamed.ntl.json', name: 'Renamed' });
    const foreign = await post('/api/notebooks/http.ntl.json/duplicate', undefined, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: string }).error).toContain('refused a POST from origin "http://evil.example"');
    expect((await fetch(`${base}/api/notebooks/Renamed.ntl.json`, { method: 'DELETE' })).status).toBe(200);
    expect(((await (await fetch(`${base}/api/notebooks`)).json()) as { file: string }[]).map((e) => e.file)).toEqual(['http.ntl.json']);
    expect(await (await fetch(`${base}/api/recent`)).json()).toEqual(['http.ntl.json']);

    const draft = await fetch(`${base}/api/drafts/http.ntl.json`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...doc, prompt: 'draft' }) });
    expect(draft.status).toBe(200);
    expect(await (await fetch(`${base}/api/drafts`)).json()).toEqual([{ file: 'http.ntl.json', name: 'Over HTTP', savedAt: doc.savedAt }]);
    expect(await (await fetch(`${base}/api/notebooks/http.ntl.json?copy=draft`)).json()).toMatchObject({ prompt: 'draft' });
    expect((await fetch(`${base}/api/notebooks/http.ntl.json?copy=../x`)).status).toBe(400);
    expect((await fetch(`${base}/api/drafts/http.ntl.json`, { method: 'DELETE' })).status).toBe(200);
    expect(await (await fetch(`${base}/api/drafts`)).json()).toEqual([]);
  });

  it('imports a model folder sent in pieces: begin, PUT each piece, commit', async () => {
    const source = uploadSource;
    const paths = ['config.json', 'tokenizer.json', 'onnx/model.onnx'];
    const files = await Promise.all(paths.map(async (path) => ({ path, bytes: await readFile(join(source, path)) })));
    const json = { 'Content-Type': 'application/json' };
    const begun = await fetch(`${base}/api/imports`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'uploaded', files: files.map((f) => ({ path: f.path, size: f.bytes.length })) }) });
    expect(begun.status).toBe(200);
    const { token } = (await begun.json()) as { token: string };
    const octets = { 'Content-Type': 'application/octet-stream' };
    expect((await fetch(`${base}/api/imports/${token}?file=config.json&offset=0`, { method: 'PUT', headers: json, body: '{}' })).status).toBe(415);
    for (const file of files) {
      const half = Math.floor(file.bytes.length / 2);
      for (const [offset, piece] of [[0, file.bytes.subarray(0, half)], [half, file.bytes.subarray(half)]] as const) {
        const res = await fetch(`${base}/api/imports/${token}?file=${encodeURIComponent(file.path)}&offset=${offset}`, { method: 'PUT', headers: octets, body: piece });
        expect(res.status, await res.text()).toBe(200);
      }
    }
    const committed = await fetch(`${base}/api/imports/${token}/commit`, { method: 'POST' });
    expect(committed.status).toBe(200);
    expect(await committed.json()).toMatchObject({ id: 'uploaded', source: 'user', vocab: 8 });
    const list = (await (await fetch(`${base}/api/models`)).json()) as { models: { id: string }[] };
    expect(list.models.map((m) => m.id)).toEqual(['tiny', 'uploaded']);
    const again = await fetch(`${base}/api/imports/${token}/commit`, { method: 'POST' });
    expect(again.status).toBe(404);
  });

  it('refuses an import that lacks a tokenizer before any byte is sent', async () => {
    const res = await fetch(`${base}/api/imports`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'half', files: [{ path: 'config.json', size: 10 }, { path: 'onnx/model.onnx', size: 10 }] }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: 'half/tokenizer.json is missing: a model folder has config.json, tokenizer.json and an ONNX file' });
  });
});
