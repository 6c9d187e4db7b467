import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { CONTENT_SECURITY_POLICY } from '../common/csp';
import { jsonResponse, routeAppRequest, type AppRoutes, type RoutedResponse } from '../node/app-routes';

/** The app's own origin in Electron: `app://local/...` serves what the HTTP server serves. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = 'app://local';

export interface AppRequestOptions {
  /** The host the request must name: `local` for app://local, the dev server's in development. */
  host: string;
  /** Whether an origin (`scheme://host`) may start requests here: the app's own, and the dev server's. */
  isTrustedOrigin(origin: string): boolean;
}

/** `scheme://host` of a URL; a blob: URL's is its creator's; null for local schemes (about:, data:) and junk. */
function originOf(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol === 'blob:') return originOf(url.pathname);
  if (url.protocol === 'about:' || url.protocol === 'data:') return null;
  // Non-special schemes (app:) report "null" as their origin: scheme and host name it instead.
  return `${url.protocol}//${url.host}`;
}

/**
 * The origin that started a request, from its Origin header or else its referrer; null where the
 * request names none (a top-level load, a worker started from a blob or data URL, a referrer policy
 * that sends nothing). Only a named foreign origin is refused: this is a second line behind the
 * window that cannot navigate anywhere else.
 */
export function requestInitiator(request: Request): string | null {
  const origin = request.headers.get('origin');
  const named = origin !== null && origin !== 'null' ? origin : request.referrer;
  if (!named || named === 'about:client' || named === 'no-referrer') return null;
  return originOf(named);
}

function toResponse(routed: RoutedResponse, method: string): Response {
  if (method === 'HEAD' || routed.body.kind !== 'file') {
    return new Response(method === 'HEAD' ? null : routed.body.kind === 'json' ? routed.body.text : null, { status: routed.status, headers: routed.headers });
  }
  const stream = Readable.toWeb(createReadStream(routed.body.path));
  return new Response(stream as ReadableStream<Uint8Array>, { status: routed.status, headers: routed.headers });
}

/**
 * Answers one `app://` request (or, in development, a model file on the dev server's origin)
 * through the same routing as the browser build's server. A request another origin started (a page
 * elsewhere embedding the app's files) is refused.
 */
export async function handleAppRequest(routes: AppRoutes, request: Request, options: AppRequestOptions = { host: 'local', isTrustedOrigin: (o) => o === APP_ORIGIN }): Promise<Response> {
  const url = new URL(request.url);
  if (url.host !== options.host) return toResponse(jsonResponse(404, { error: `unknown host ${url.host}` }), request.method);
  const initiator = requestInitiator(request);
  if (initiator !== null && !options.isTrustedOrigin(initiator)) {
    return toResponse(jsonResponse(403, { error: `refused a request from ${initiator}` }), request.method);
  }
  return toResponse(await routeAppRequest(routes, request.method, url.pathname, request.headers.get('if-none-match')), request.method);
}

/**
 * A response of electron-vite's dev server with the headers a build's pages get (the dev server
 * does not send them): cross-origin isolation, and the Content-Security-Policy on HTML pages.
 */
export function withDevHeaders(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  if ((headers.get('content-type') ?? '').startsWith('text/html')) headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
