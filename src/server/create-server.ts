import { createReadStream } from 'node:fs';
import { toPageModelInfo, toPageModelList } from '../common/model-info';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorResponse, jsonResponse, routeAppRequest, type RoutedResponse } from '../node/app-routes';
import type { ModelImporter } from '../node/model-import';
import type { GgufLibrary } from '../node/gguf-library';
import { AddGgufRequest } from '../common/gguf-found';
import type { ModelRegistry } from '../node/model-registry';
import type { NotebookStore } from '../node/notebook-store';
import { RequestError, errorMessage } from '../node/request-error';
import { IMPORT_CHUNK_BYTES } from '../common/model-import';
import type { RemoteService } from '../node/remote-service';

export interface ServerOptions {
  /** The built renderer (`out/renderer`). */
  rendererDir: string;
  registry: ModelRegistry;
  importer: ModelImporter;
  /** GGUF files in LM Studio's and Ollama's folders, and adding them (`/api/gguf`). */
  gguf?: GgufLibrary;
  store: NotebookStore;
  /** Whether `store` is the default workspace folder (not one named by `--workspace` or NTL_WORKSPACE). */
  workspaceIsDefault?: boolean;
  /** Largest notebook body a PUT may send. */
  maxBodyBytes?: number;
  /** Served models (`/api/remote/...`), with the key from the environment (NTL_API_KEY). */
  remote?: RemoteService;
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

async function readBytes(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > limit) throw new RequestError(413, `request body of ${declared} bytes is larger than the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) throw new RequestError(413, `request body is larger than the limit of ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new RequestError(415, 'expected a JSON body (Content-Type: application/json)');
  const text = (await readBytes(request, limit)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new RequestError(400, `request body is not valid JSON: ${errorMessage(cause)}`);
  }
}

/**
 * `/api/imports`: POST {name, files} begins an import, PUT `/api/imports/<token>?file=F&offset=N`
 * sends a piece of a file (application/octet-stream), POST `/api/imports/<token>/commit` validates
 * and publishes it, DELETE `/api/imports/<token>` abandons it.
 */
async function routeImports(options: ServerOptions, request: IncomingMessage, url: URL, rest: string[]): Promise<RoutedResponse> {
  const method = request.method ?? 'GET';
  const [token, action, ...extra] = rest.map(decodeSegment);
  if (token === undefined) {
    if (method !== 'POST') return notAllowed(method, 'POST');
    return jsonResponse(200, await options.importer.begin(await readJsonBody(request, 64 * 1024)));
  }
  if (extra.length > 0) throw new RequestError(404, `no such API: ${url.pathname}`);
  if (action === 'commit') {
    if (method !== 'POST') return notAllowed(method, 'POST');
    return jsonResponse(200, toPageModelInfo(await options.importer.commit(token)));
  }
  if (action !== undefined) throw new RequestError(404, `no such API: ${url.pathname}`);
  if (method === 'DELETE') {
    await options.importer.abort(token);
    return jsonResponse(200, {});
  }
  if (method !== 'PUT') return notAllowed(method, 'PUT, DELETE');
  if ((request.headers['content-type'] ?? '') !== 'application/octet-stream') throw new RequestError(415, 'expected the bytes of a file (Content-Type: application/octet-stream)');
  const offset = Number(url.searchParams.get('offset') ?? 'NaN');
  const bytes = await readBytes(request, IMPORT_CHUNK_BYTES);
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  await options.importer.write({ token, file: url.searchParams.get('file') ?? '', offset, data });
  return jsonResponse(200, {});
}

/**
 * `/api/notebooks`: GET lists; `/api/notebooks/<file>`: GET reads (`?copy=backup` or `draft`), PUT
 * saves (`?create=1`: only a new file; `?create=free-name`: a new file under the first free name), DELETE
 * moves it to the trash; POST `<file>/rename` with
 * `{name}` and POST `<file>/duplicate`.
 */
async function routeNotebooks(options: ServerOptions, request: IncomingMessage, url: URL, rest: string[]): Promise<RoutedResponse> {
  const method = request.method ?? 'GET';
  const store = options.store;
  const [file, action, ...extra] = rest.map(decodeSegment);
  if (extra.length > 0) throw new RequestError(404, `no such API: ${url.pathname}`);
  if (file === undefined) {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(method, 'GET, HEAD');
    return jsonResponse(200, await store.list());
  }
  if (action === 'rename' || action === 'duplicate') {
    if (method !== 'POST') return notAllowed(method, 'POST');
    if (action === 'duplicate') return jsonResponse(200, await store.duplicate(file));
    const body = await readJsonBody(request, 4096);
    const name = body !== null && typeof body === 'object' && 'name' in body ? body.name : undefined;
    return jsonResponse(200, await store.rename({ file, name }));
  }
  if (action !== undefined) throw new RequestError(404, `no such API: ${url.pathname}`);
  if (method === 'GET' || method === 'HEAD') return jsonResponse(200, await store.read(file, url.searchParams.get('copy') ?? 'file'));
  if (method === 'PUT') {
    const doc = await readJsonBody(request, options.maxBodyBytes ?? DEFAULT_MAX_BODY);
    const create = url.searchParams.get('create');
    return jsonResponse(200, await store.save({ file, doc, create: create === 'free-name' ? 'free-name' : create === '1' }));
  }
  if (method === 'DELETE') {
    await store.remove(file);
    return jsonResponse(200, {});
  }
  return notAllowed(method, 'GET, HEAD, PUT, DELETE');
}

/** `/api/drafts`: GET lists the drafts of unsaved changes; `/api/drafts/<file>`: PUT keeps one, DELETE discards it. */
async function routeDrafts(options: ServerOptions, request: IncomingMessage, url: URL, rest: string[]): Promise<RoutedResponse> {
  const method = request.method ?? 'GET';
  const [file, ...extra] = rest.map(decodeSegment);
  if (extra.length > 0) throw new RequestError(404, `no such API: ${url.pathname}`);
  if (file === undefined) {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(method, 'GET, HEAD');
    return jsonResponse(200, await options.store.drafts());
  }
  if (method === 'PUT') {
    await options.store.saveDraft({ file, doc: await readJsonBody(request, options.maxBodyBytes ?? DEFAULT_MAX_BODY) });
    return jsonResponse(200, {});
  }
  if (method === 'DELETE') {
    await options.store.discardDraft(file);
    return jsonResponse(200, {});
  }
  return notAllowed(method, 'PUT, DELETE');
}

/**
 * `/api/remote/<verb>`: POST, a JSON body, one of the served-model requests. `cancel` with a
 * generation's request id stops its stream and the generation answers with the steps streamed so
 * far; a page that closes its `generate` request stops the stream too.
 */
async function routeRemote(options: ServerOptions, request: IncomingMessage, url: URL, rest: string[], closed: AbortSignal): Promise<RoutedResponse> {
  const method = request.method ?? 'GET';
  const remote = options.remote;
  const [verb, ...extra] = rest;
  if (!remote || extra.length > 0) throw new RequestError(404, `no such API: ${url.pathname}`);
  if (method !== 'POST') return notAllowed(method, 'POST');
  const body = await readJsonBody(request, 256 * 1024);
  const answer = async (): Promise<unknown> => {
    switch (verb) {
      case 'models':
        return remote.models(body);
      case 'tokenize':
        return remote.tokenize(body, closed);
      case 'predict':
        return remote.predict(body, closed);
      case 'surprisal':
        return remote.surprisal(body, closed);
      case 'generate':
        return remote.generate(body, closed);
      case 'cancel':
        await remote.cancel(body);
        return {};
      case 'progress':
        return remote.progress(body);
      default:
        throw new RequestError(404, `no such API: ${url.pathname}`);
    }
  };
  try {
    return jsonResponse(200, await answer());
  } catch (cause) {
    // A request the page got wrong is refused (400, 404); a fault of the served model's server (refused,
    // 401, timeout, …) is what this request found out, answered as `{fault}` with the cause in words.
    if (cause instanceof RequestError) throw cause;
    return jsonResponse(200, { fault: errorMessage(cause) });
  }
}

/** The browser build's transport of the main-process services: `/api/...` over HTTP. */
async function routeApi(options: ServerOptions, request: IncomingMessage, url: URL, segments: string[], closed: AbortSignal): Promise<RoutedResponse> {
  const method = request.method ?? 'GET';
  const [, resource, file] = segments;
  if (resource === 'remote') return routeRemote(options, request, url, segments.slice(2), closed);
  if (resource === 'imports') return routeImports(options, request, url, segments.slice(2));
  if (resource === 'models' && file === undefined) {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(method, 'GET, HEAD');
    return jsonResponse(200, toPageModelList(await options.registry.list()));
  }
  if (resource === 'gguf' && file === undefined) {
    if (!options.gguf) throw new RequestError(404, 'this server does not look for GGUF files');
    if (method === 'GET' || method === 'HEAD') return jsonResponse(200, await options.gguf.found());
    if (method !== 'POST') return notAllowed(method, 'GET, HEAD, POST');
    const parsed = AddGgufRequest.safeParse(await readJsonBody(request, 16 * 1024));
    if (!parsed.success) throw new RequestError(400, `gguf: field "path": ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return jsonResponse(200, toPageModelInfo(await options.gguf.addFound(parsed.data.path)));
  }
  if (resource === 'workspace' && file === undefined) {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(method, 'GET, HEAD');
    // The browser build keeps the folder it was started with: a page may not name folders to read.
    return jsonResponse(200, { dir: options.store.dir, isDefault: options.workspaceIsDefault ?? false, canChoose: false });
  }
  if (resource === 'first-run' && file === undefined) {
    if (method !== 'POST') return notAllowed(method, 'POST');
    return jsonResponse(200, { tour: await options.store.firstRun() });
  }
  if (resource === 'notebooks') return routeNotebooks(options, request, url, segments.slice(2));
  if (resource === 'drafts') return routeDrafts(options, request, url, segments.slice(2));
  if (resource === 'recent' && file === undefined) {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(method, 'GET, HEAD');
    return jsonResponse(200, await options.store.recent());
  }
  throw new RequestError(404, `no such API: ${request.url ?? ''}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, `bad URL segment ${JSON.stringify(segment)}`);
  }
}

function notAllowed(method: string, allow: string): RoutedResponse {
  const response = jsonResponse(405, { error: `method ${method} not allowed here` });
  response.headers['Allow'] = allow;
  return response;
}

/**
 * Only requests addressed to this server by a loopback name are answered, so that a web page
 * cannot reach it through a DNS name rebound to 127.0.0.1.
 */
function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host.toLowerCase());
}

async function handle(options: ServerOptions, request: IncomingMessage, response: ServerResponse, port: number): Promise<void> {
  let routed: RoutedResponse;
  const method = request.method ?? 'GET';
  try {
    if (!isLoopbackHost(request.headers.host, port)) throw new RequestError(403, `refused Host ${JSON.stringify(request.headers.host ?? '')}`);
    // Pages of other origins may not change anything here (a form or fetch from another site).
    const origin = request.headers.origin;
    if (method !== 'GET' && method !== 'HEAD' && origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) {
      throw new RequestError(403, `refused a ${method} from origin ${JSON.stringify(origin)}`);
    }
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const segments = url.pathname.split('/').filter((s, i) => i > 0 || s !== '');
    const closed = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) closed.abort();
    });
    routed = segments[0] === 'api' ? await routeApi(options, request, url, segments, closed.signal) : await routeAppRequest(options, method, url.pathname, request.headers['if-none-match']);
  } catch (cause) {
    routed = errorResponse(cause);
  }
  response.writeHead(routed.status, routed.headers);
  if (method === 'HEAD') {
    response.end();
    return;
  }
  if (routed.body.kind !== 'file') {
    response.end(routed.body.kind === 'json' ? routed.body.text : undefined);
    return;
  }
  const stream = createReadStream(routed.body.path);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

/** The HTTP server of the browser build. Call `listen(port)`; it binds 127.0.0.1 only. */
export function createServer(options: ServerOptions): { server: Server; listen(port: number): Promise<number>; close(): Promise<void> } {
  let port = 0;
  const server = createHttpServer((request, response) => {
    void handle(options, request, response, port).catch((cause: unknown) => {
      if (!response.headersSent) {
        const routed = errorResponse(cause);
        response.writeHead(routed.status, routed.headers);
        response.end(routed.body.kind === 'json' ? routed.body.text : '');
      } else response.destroy();
    });
  });
  return {
    server,
    listen: (wanted: number) =>
      new Promise<number>((resolvePort, reject) => {
        server.once('error', reject);
        server.listen(wanted, '127.0.0.1', () => {
          server.off('error', reject);
          const address = server.address();
          port = address !== null && typeof address === 'object' ? address.port : wanted;
          resolvePort(port);
        });
      }),
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((cause) => (cause ? reject(cause) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}
