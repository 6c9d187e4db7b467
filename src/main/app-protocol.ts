import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { routeAppRequest, type AppRoutes } from './services/app-routes';

/** The app's own origin in Electron: `app://local/...` serves what the HTTP server serves. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = 'app://local';

/** Answers one `app://` request through the same routing as the browser build's server. */
export async function handleAppRequest(routes: AppRoutes, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.host !== 'local') {
    return new Response(JSON.stringify({ error: `unknown host ${url.host}` }), { status: 404 });
  }
  const routed = await routeAppRequest(routes, request.method, url.pathname);
  if (request.method === 'HEAD' || routed.body.kind === 'json') {
    return new Response(request.method === 'HEAD' ? null : routed.body.kind === 'json' ? routed.body.text : null, {
      status: routed.status,
      headers: routed.headers,
    });
  }
  const stream = Readable.toWeb(createReadStream(routed.body.path));
  return new Response(stream as ReadableStream<Uint8Array>, { status: routed.status, headers: routed.headers });
}
