import { errorBodyMessage, parseCompletion, parseLenientJson, parseModelList, parseTokenize, type RemoteCompletion, type RemoteToken, type RemoteTokenization } from './openai-responses';

/**
 * A client of an OpenAI-compatible completions server (vLLM, SGLang, TGI, llama.cpp's server, Ollama,
 * `ntl serve-openai`): plain `fetch`, every answer checked with a schema, a timeout, a cap on the
 * answer's size, and one-line errors that name the server and the cause.
 */

/** Largest answer read, streamed or not. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** How many times an idempotent request is tried again. */
const RETRIES = 3;

export interface RemoteClientOptions {
  /** `http://host:port` or `http://host:port/v1`. */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer`. */
  apiKey?: string;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** What a 401/403 tells the user to do; `set NTL_API_KEY` by default (the command line). */
  keyHint?: string;
}

/** A failure of the server or of the way to it, said in one line that names the server. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
    /** A 429's or 503's `Retry-After`, in seconds, where the server sent one. */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** A request stopped by its caller (Cancel), not by the server. */
export class RemoteCancelled extends RemoteError {
  constructor(root: string) {
    super(`server ${root}: cancelled`);
    this.name = 'RemoteCancelled';
  }
}

/** The request's signal: the timeout, and the caller's Cancel where there is one. */
const requestSignal = (timeoutMs: number, cancel: AbortSignal | undefined): AbortSignal =>
  cancel === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([AbortSignal.timeout(timeoutMs), cancel]);

/** The root and `/v1` of a base URL; only http and https. */
export function serverRoots(baseUrl: string): { root: string; v1: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new RemoteError(`--base-url ${baseUrl}: not a URL (expected e.g. http://127.0.0.1:8000/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RemoteError(`--base-url ${baseUrl}: only http and https are supported`);
  const path = url.pathname.replace(/\/+$/, '');
  const rootPath = path.endsWith('/v1') ? path.slice(0, -3) : path;
  const root = `${url.origin}${rootPath}`;
  return { root, v1: `${root}/v1` };
}

const causeCode = (cause: unknown): string | null => {
  if (cause instanceof Error && 'cause' in cause) {
    const inner = cause.cause;
    if (inner !== null && typeof inner === 'object' && 'code' in inner && typeof inner.code === 'string') return inner.code;
  }
  return null;
};

export class RemoteClient {
  readonly root: string;
  readonly v1: string;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(readonly options: RemoteClientOptions) {
    ({ root: this.root, v1: this.v1 } = serverRoots(options.baseUrl));
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  }

  get model(): string {
    return this.options.model;
  }

  private fail(message: string, status: number | null = null, retryAfterS: number | null = null): RemoteError {
    return new RemoteError(`server ${this.root}: ${message}`, status, retryAfterS);
  }

  /** One request; the returned response is OK (2xx), its body not read yet. */
  private async send(url: string, init: { method: 'GET' | 'POST'; body?: unknown; signal: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.options.apiKey) headers['Authorization'] = `Bearer ${this.options.apiKey}`;
    let response: Response;
    try {
      response = await fetch(url, { method: init.method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: init.signal, redirect: 'error' });
    } catch (cause) {
      throw this.transportError(cause);
    }
    if (response.ok) return response;
    const text = await this.readText(response).catch(() => '');
    let detail: string | null = null;
    try {
      detail = errorBodyMessage(parseLenientJson(text));
    } catch {
      detail = text.trim().split('\n')[0]?.slice(0, 200) || null;
    }
    const said = detail ? `: ${detail}` : '';
    const status = response.status;
    const retryHeader = response.headers.get('retry-after');
    const retryAfterS = retryHeader !== null && /^\d+(\.\d+)?$/.test(retryHeader.trim()) ? Number(retryHeader) : null;
    if (status === 401 || status === 403) throw this.fail(`${status === 401 ? 'the API key was refused' : 'access denied'} (${status}${said}); ${this.options.keyHint ?? 'set NTL_API_KEY'}`, status);
    if (status === 404) throw this.fail(`not found (404${said}) at ${new URL(url).pathname}; is "${this.model}" a model it serves (GET ${this.v1}/models)?`, status);
    if (status === 429) {
      throw this.fail(`too many requests (429${said})${retryHeader ? `; retry after ${retryHeader} s` : ''}`, status, retryAfterS);
    }
    if (status >= 500) throw this.fail(`server error ${status}${said}`, status, retryAfterS);
    throw this.fail(`request refused (${status}${said})`, status);
  }

  private transportError(cause: unknown): RemoteError {
    if (cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError')) return this.fail(`no answer within ${this.timeoutMs / 1000} s (timed out)`);
    const code = causeCode(cause);
    if (code === 'ECONNREFUSED') return this.fail('connection refused (is the server running on that port?)');
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return this.fail('host not found');
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return this.fail('the connection was cut');
    if (code !== null && /CERT|TLS|SSL/.test(code)) return this.fail(`TLS error (${code})`);
    const message = cause instanceof Error ? cause.message : String(cause);
    return this.fail(`cannot reach it (${code ?? message})`);
  }

  /** The body as text, refusing one larger than the cap. */
  private async readText(response: Response): Promise<string> {
    const declared = Number(response.headers.get('content-length') ?? 'NaN');
    if (declared > this.maxBytes) throw this.fail(`the response of ${declared} bytes is larger than ${this.maxBytes / 2 ** 20} MiB`);
    if (!response.body) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxBytes) {
        await reader.cancel();
        throw this.fail(`the response is larger than ${this.maxBytes / 2 ** 20} MiB`);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * `json` for a request that changes nothing on the server (the model list, /tokenize): retried up to
   * `RETRIES` times on 429, 502, 503 and 504, after `Retry-After` (at most 10 s) or 0.5 s, 1 s, 2 s.
   */
  private async idempotent(url: string, method: 'GET' | 'POST', body?: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.json(url, method, body);
      } catch (cause) {
        const isPassing = cause instanceof RemoteError && cause.status !== null && [429, 502, 503, 504].includes(cause.status);
        if (!isPassing || attempt >= RETRIES) throw cause;
        const wait = cause.retryAfterS !== null ? Math.min(cause.retryAfterS, 10) * 1000 : 500 * 2 ** attempt;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private async json(url: string, method: 'GET' | 'POST', body?: unknown, cancel?: AbortSignal): Promise<unknown> {
    const signal = requestSignal(this.timeoutMs, cancel);
    try {
      const response = await this.send(url, { method, body, signal });
      const text = await this.readText(response);
      try {
        return parseLenientJson(text);
      } catch {
        throw this.fail(`malformed JSON in the answer to ${new URL(url).pathname} (${text.length === 0 ? 'empty body' : `starts ${JSON.stringify(text.slice(0, 40))}`})`);
      }
    } catch (cause) {
      if (cancel?.aborted === true) throw new RemoteCancelled(this.root);
      throw cause instanceof RemoteError ? cause : this.transportError(cause);
    }
  }

  private checked<T>(what: string, parse: () => T): T {
    try {
      return parse();
    } catch (cause) {
      throw cause instanceof RemoteError ? cause : this.fail(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  async models(): Promise<{ id: string; maxModelLen: number | null }[]> {
    const body = await this.idempotent(`${this.v1}/models`, 'GET');
    return this.checked('GET /v1/models', () => parseModelList(body));
  }

  /** vLLM's (and llama.cpp's) `/tokenize`; null where the server has none (404 or 405 on that path). */
  async tokenize(prompt: string): Promise<RemoteTokenization | null> {
    try {
      const body = await this.idempotent(`${this.root}/tokenize`, 'POST', { model: this.model, prompt, return_token_strs: true });
      return this.checked('POST /tokenize', () => parseTokenize(body));
    } catch (cause) {
      if (cause instanceof RemoteError && (cause.status === 404 || cause.status === 405 || cause.status === 400)) return null;
      throw cause;
    }
  }

  async complete(body: Record<string, unknown>, cancel?: AbortSignal): Promise<RemoteCompletion> {
    const answer = await this.json(`${this.v1}/completions`, 'POST', { ...body, model: this.model, stream: false }, cancel);
    const completion = this.checked('POST /v1/completions', () => parseCompletion(answer));
    if (!completion) throw this.fail('the completion has no choices');
    return completion;
  }

  /** A streamed completion (server-sent events): `onToken` sees each piece as it comes; the whole is returned. */
  async stream(body: Record<string, unknown>, onPiece?: (piece: RemoteCompletion) => void, cancel?: AbortSignal): Promise<RemoteCompletion> {
    const signal = requestSignal(this.timeoutMs, cancel);
    try {
      const response = await this.send(`${this.v1}/completions`, { method: 'POST', body: { ...body, model: this.model, stream: true }, signal });
      if (!response.body) throw this.fail('the stream has no body');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      let size = 0;
      let isDone = false;
      let text = '';
      let finishReason: string | null = null;
      let tokens: RemoteToken[] | null = null;
      const event = (data: string): void => {
        if (data === '[DONE]') {
          isDone = true;
          return;
        }
        let parsed: unknown;
        try {
          parsed = parseLenientJson(data);
        } catch {
          throw this.fail(`malformed JSON in the stream (${JSON.stringify(data.slice(0, 40))})`);
        }
        const errorMessage = errorBodyMessage(parsed);
        if (errorMessage !== null && !(parsed !== null && typeof parsed === 'object' && 'choices' in parsed)) throw this.fail(`error in the stream: ${errorMessage}`);
        const piece = this.checked('stream chunk', () => parseCompletion(parsed));
        if (!piece) return;
        text += piece.text;
        finishReason = piece.finishReason ?? finishReason;
        if (piece.tokens) tokens = [...(tokens ?? []), ...piece.tokens];
        onPiece?.(piece);
      };
      while (!isDone) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > this.maxBytes) {
          await reader.cancel();
          throw this.fail(`the stream is larger than ${this.maxBytes / 2 ** 20} MiB`);
        }
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while (!isDone && (end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          const data = block
            .split(/\r?\n/)
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).replace(/^ /, ''))
            .join('\n');
          if (data !== '') event(data);
        }
      }
      if (!isDone) {
        await reader.cancel().catch(() => undefined);
        throw this.fail('the stream was cut before it finished (no [DONE])');
      }
      await reader.cancel().catch(() => undefined);
      return { text, finishReason, tokens };
    } catch (cause) {
      if (cancel?.aborted === true) throw new RemoteCancelled(this.root);
      throw cause instanceof RemoteError ? cause : this.transportError(cause);
    }
  }
}
