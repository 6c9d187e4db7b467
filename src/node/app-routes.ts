import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from '../common/csp';
import type { ModelRegistry } from './model-registry';
import { RequestError, errorMessage } from './request-error';

/**
 * What the app's own origin serves, the same over Electron's `app://` protocol and the browser
 * build's HTTP server: the built renderer and the files of the models. Both transports call
 * `routeAppRequest` and only turn its answer into their kind of response.
 */
export interface AppRoutes {
  /** The built renderer (`out/renderer`). */
  rendererDir: string;
  registry: ModelRegistry;
}

export type RoutedBody = { kind: 'file'; path: string; size: number } | { kind: 'json'; text: string } | { kind: 'none' };

export interface RoutedResponse {
  status: number;
  headers: Record<string, string>;
  body: RoutedBody;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers every response carries; HTML pages also get the Content-Security-Policy. */
export function baseHeaders(contentType: string): Record<string, string> {
  const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': contentType };
  if (contentType.startsWith('text/html')) headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
  return headers;
}

/** A JSON response; errors are `{error: message}`. */
export function jsonResponse(status: number, data: unknown): RoutedResponse {
  const text = JSON.stringify(data);
  return {
    status,
    headers: { ...baseHeaders('application/json'), 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(text)) },
    body: { kind: 'json', text },
  };
}

export function errorResponse(cause: unknown): RoutedResponse {
  const status = cause instanceof RequestError ? cause.status : 500;
  return jsonResponse(status, { error: errorMessage(cause) });
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Splits a URL path into decoded segments; refuses `..`, `.`, empty segments, backslashes and NUL. */
export function pathSegments(pathname: string): string[] {
  const raw = pathname.replace(/^\/+/, '');
  if (raw === '') return [];
  return raw.split('/').map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new RequestError(400, `bad URL path ${JSON.stringify(pathname)}`);
    }
    if (decoded === '..' || decoded === '.' || decoded === '' || /[\\/\0]/.test(decoded)) {
      throw new RequestError(403, `refused path ${JSON.stringify(pathname)}`);
    }
    return decoded;
  });
}

/**
 * A file's response, with a validator of its size and modification time: a file asked for again
 * (`no-cache`: a model's files, index.html) is answered 304 without its bytes when it has not changed
 * since the copy the browser holds (`ifNoneMatch`), and sent again when it has.
 */
async function fileResponse(path: string, cacheControl: string, ifNoneMatch?: string | null): Promise<RoutedResponse> {
  const info = await stat(path);
  const tag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = { ...baseHeaders(contentTypeOf(path)), 'Cache-Control': cacheControl, ETag: tag };
  if (ifNoneMatch?.split(',').some((t) => t.trim() === tag)) return { status: 304, headers, body: { kind: 'none' } };
  return { status: 200, headers: { ...headers, 'Content-Length': String(info.size) }, body: { kind: 'file', path, size: info.size } };
}

async function staticFile(rendererDir: string, segments: string[], ifNoneMatch?: string | null): Promise<RoutedResponse> {
  const root = resolve(rendererDir);
  const wanted = join(root, ...(segments.length === 0 ? ['index.html'] : segments));
  let real: string;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(wanted);
  } catch {
    throw new RequestError(404, `not found: /${segments.join('/')}`);
  }
  if (!isInside(realRoot, real)) throw new RequestError(403, `refused path /${segments.join('/')}`);
  const info = await stat(real);
  if (!info.isFile()) throw new RequestError(404, `not found: /${segments.join('/')}`);
  return fileResponse(real, cacheControlFor(segments), ifNoneMatch);
}

/**
 * The build's own files under `assets/` carry a hash of their content in their name
 * (`index-Rnc5Ctls.js`, `ort-wasm-simd-threaded-DcHrbrbl.wasm`): a new build or another ONNX Runtime
 * is another URL, so such a file is kept without asking again. Kept in the HTTP cache, the browser
 * also keeps what it compiled from it (Chromium's code cache for JavaScript and for WebAssembly
 * compiled through `instantiateStreaming`), and the next start neither fetches nor compiles the
 * 14 MB runtime again. Everything else (index.html, models) is asked for again each time.
 */
export function cacheControlFor(segments: readonly string[]): string {
  const isHashedAsset = segments.length === 2 && segments[0] === 'assets' && /-[A-Za-z0-9_-]{8,}\.(?:js|mjs|css|wasm)$/.test(segments[1] ?? '');
  return isHashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/**
 * Maps a GET or HEAD request for `pathname` to a response: `/models/<id>/<file>` is one of a
 * model's files, anything else a file of the built renderer (`/` is index.html). `ifNoneMatch` is
 * the request's If-None-Match header: a file unchanged since is answered 304.
 */
export async function routeAppRequest(routes: AppRoutes, method: string, pathname: string, ifNoneMatch?: string | null): Promise<RoutedResponse> {
  try {
    if (method !== 'GET' && method !== 'HEAD') {
      const response = jsonResponse(405, { error: `method ${method} not allowed here` });
      response.headers['Allow'] = 'GET, HEAD';
      return response;
    }
    const segments = pathSegments(pathname);
    if (segments[0] === 'models') {
      const [, id, ...rest] = segments;
      if (id === undefined || rest.length === 0) throw new RequestError(404, `not found: ${pathname} (expected /models/<id>/<file>)`);
      const path = await routes.registry.fileForRequest(id, rest.join('/'));
      return await fileResponse(path, 'no-cache', ifNoneMatch);
    }
    return await staticFile(routes.rendererDir, segments, ifNoneMatch);
  } catch (cause) {
    return errorResponse(cause);
  }
}
