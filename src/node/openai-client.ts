import { errorMessage } from '../common/error-message';
import { errorBodyMessage, isIdNamed, parseCompletion, parseDetokenize, parseLenientJson, parseModelList, parseTokenize, type RemoteCompletion, type RemoteToken, type RemoteTokenization } from './openai-responses';

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

/**
 * What is known of each server and model about vLLM's `return_tokens_as_token_ids` (alternatives
 * named `token_id:N`, so tokens with the same text, such as byte tokens that all read "�", stay
 * apart): whether the server takes it, and the texts of the ids seen, from its `/detokenize`.
 * Kept for the process, as clients live one request each.
 */
interface TokenIdSupport {
  state: 'unknown' | 'yes' | 'no';
  texts: Map<number, string>;
}
const tokenIdSupport = new Map<string, TokenIdSupport>();
/** Texts kept per server and model at most (a vocabulary's worth). */
const MAX_KEPT_TEXTS = 300_000;

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

/** A stream whose first piece named its tokens by id only, the server unable to detokenize them: asked again without ids. */
class TokenIdsUnnamed extends RemoteError {
  constructor(root: string) {
    super(`server ${root}: token ids without their texts`);
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

  private get ids(): TokenIdSupport {
    const key = `${this.root} ${this.model}`;
    let support = tokenIdSupport.get(key);
    if (!support) tokenIdSupport.set(key, (support = { state: 'unknown', texts: new Map() }));
    return support;
  }

  /** Whether the server takes `return_tokens_as_token_ids` (found out once per server and model). */
  get tokenIds(): 'unknown' | 'yes' | 'no' {
    return this.ids.state;
  }

  /** The body with `return_tokens_as_token_ids` where log-probabilities are asked and the server is not known to refuse it. */
  private withTokenIds(body: Record<string, unknown>): Record<string, unknown> {
    return this.ids.state !== 'no' && typeof body['logprobs'] === 'number' ? { ...body, return_tokens_as_token_ids: true } : body;
  }

  /** A 400 that names the field (OpenAI: "Unrecognized request argument supplied: return_tokens_as_token_ids"). */
  private isTokenIdsRefused(cause: unknown): boolean {
    return cause instanceof RemoteError && cause.status === 400 && cause.message.includes('return_tokens_as_token_ids');
  }

  /**
   * The completion with each `token_id:N` named by its text (the server's `/detokenize`, one id per
   * request, each id asked once). Null where the server gave ids but cannot say their texts.
   */
  private async named(completion: RemoteCompletion, cancel?: AbortSignal): Promise<RemoteCompletion | null> {
    const tokens = completion.tokens;
    if (!tokens) return completion;
    const support = this.ids;
    const wanted = new Set<number>();
    for (const t of tokens) {
      if (isIdNamed(t)) wanted.add(t.id);
      for (const a of t.top ?? []) if (isIdNamed(a)) wanted.add(a.id);
    }
    if (wanted.size === 0) {
      // Ignored (llama.cpp, Ollama): alternatives keyed by text, as without it.
      if (tokens.some((t) => (t.top?.length ?? 0) > 0)) support.state = 'no';
      return completion;
    }
    const missing = [...wanted].filter((id) => !support.texts.has(id));
    try {
      const texts = await Promise.all(missing.map(async (id) => parseDetokenize(await this.json(`${this.root}/detokenize`, 'POST', { model: this.model, tokens: [id] }, cancel))));
      if (support.texts.size + missing.length > MAX_KEPT_TEXTS) support.texts.clear();
      missing.forEach((id, i) => support.texts.set(id, texts[i] ?? ''));
    } catch (cause) {
      if (cancel?.aborted === true) throw new RemoteCancelled(this.root);
      if (cause instanceof RemoteError && cause.status !== null && [400, 404, 405].includes(cause.status)) {
        support.state = 'no';
        return null;
      }
      throw cause instanceof RemoteError ? cause : this.fail(`POST /detokenize: ${errorMessage(cause)}`);
    }
    support.state = 'yes';
    const name = <T extends { token: string; id: number | null }>(t: T): T => (isIdNamed(t) ? { ...t, token: support.texts.get(t.id) ?? t.token } : t);
    return { ...completion, tokens: tokens.map((t) => ({ ...name(t), top: t.top?.map(name) ?? null })) };
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
    const message = errorMessage(cause);
    return this.fail(`cannot reach it (${code ?? message})`);
  }

  /** The body as text, refusing one larger than the cap. */
  private async readText(response: Response): Promise<string> {
    const declared = Number(response.headers.get('content-length') ?? 'NaN');
    if (declared > this.maxBytes) throw this.fail(`the response of ${declared} bytes is larger than ${this.maxBytes / 2 ** 20} MiB`);
    if (!response.body) return '';
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.cappedChunks(response.body.getReader(), 'the response')) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A body's chunks as they come; past the size cap the body is cancelled and `what` refused. */
  private async *cappedChunks(reader: ReadableStreamDefaultReader<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > this.maxBytes) {
        await reader.cancel();
        throw this.fail(`${what} is larger than ${this.maxBytes / 2 ** 20} MiB`);
      }
      yield value;
    }
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
      throw cause instanceof RemoteError ? cause : this.fail(`${what}: ${errorMessage(cause)}`);
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

  /**
   * One completion. Where log-probabilities are asked, vLLM's `return_tokens_as_token_ids` is asked
   * too (unless the server is known to refuse it), so alternatives with the same text stay apart;
   * a server that refuses it, or cannot detokenize, is asked again without it.
   */
  async complete(body: Record<string, unknown>, cancel?: AbortSignal): Promise<RemoteCompletion> {
    const sent = this.withTokenIds(body);
    let answer: unknown;
    try {
      answer = await this.json(`${this.v1}/completions`, 'POST', { ...sent, model: this.model, stream: false }, cancel);
    } catch (cause) {
      if (sent === body || !this.isTokenIdsRefused(cause)) throw cause;
      this.ids.state = 'no';
      return this.complete(body, cancel);
    }
    const completion = this.checked('POST /v1/completions', () => parseCompletion(answer));
    if (!completion) throw this.fail('the completion has no choices');
    if (sent === body) return completion;
    return (await this.named(completion, cancel)) ?? this.complete(body, cancel);
  }

  /** A streamed completion (server-sent events): `onToken` sees each piece as it comes; the whole is returned. */
  async stream(body: Record<string, unknown>, onPiece?: (piece: RemoteCompletion) => void, cancel?: AbortSignal): Promise<RemoteCompletion> {
    const sent = this.withTokenIds(body);
    try {
      return await this.streamOnce(sent, body, onPiece, cancel);
    } catch (cause) {
      // Refused before the stream began, or ids without texts in its first piece (nothing passed on yet): again without it.
      if (sent === body || !(cause instanceof TokenIdsUnnamed || this.isTokenIdsRefused(cause))) throw cause;
      this.ids.state = 'no';
      return this.streamOnce(body, body, onPiece, cancel);
    }
  }

  private async streamOnce(sent: Record<string, unknown>, body: Record<string, unknown>, onPiece: ((piece: RemoteCompletion) => void) | undefined, cancel: AbortSignal | undefined): Promise<RemoteCompletion> {
    const signal = requestSignal(this.timeoutMs, cancel);
    try {
      const response = await this.send(`${this.v1}/completions`, { method: 'POST', body: { ...sent, model: this.model, stream: true }, signal });
      if (!response.body) throw this.fail('the stream has no body');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      let isDone = false;
      let text = '';
      let finishReason: string | null = null;
      let tokens: RemoteToken[] | null = null;
      const event = async (data: string): Promise<void> => {
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
        const raw = this.checked('stream chunk', () => parseCompletion(parsed));
        if (!raw) return;
        const piece = sent === body ? raw : await this.named(raw, cancel);
        if (!piece) {
          await reader.cancel().catch(() => undefined);
          if (tokens === null) throw new TokenIdsUnnamed(this.root);
          throw this.fail('the server gave token ids (return_tokens_as_token_ids) but not their texts (POST /detokenize)');
        }
        text += piece.text;
        finishReason = piece.finishReason ?? finishReason;
        if (piece.tokens) tokens = [...(tokens ?? []), ...piece.tokens];
        onPiece?.(piece);
      };
      for await (const value of this.cappedChunks(reader, 'the stream')) {
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
          if (data !== '') await event(data);
        }
        if (isDone) break;
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
