import { errorMessage } from '../common/error-message';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { SamplerSettings, firstIssue, type SamplerSettingsInput } from '../common/sampler-settings';
import { generationStep, type GenerationState } from '../engine/generate';
import { SeededRandom } from '../engine/rng';
import { softmax } from '../engine/sampling/distribution';
import { topOrder } from '../engine/sampling/filters';
import type { EngineModel } from '../engine/contract';

/**
 * `ntl serve-openai`: the lab's models over the OpenAI-compatible completions API as vLLM documents
 * it (`/v1/models`, `/v1/completions` with `logprobs`, `echo`, `seed`, `stream`, `stop`, and vLLM's
 * `/tokenize`, `/detokenize` and `return_tokens_as_token_ids`), on 127.0.0.1 only. Tokens are drawn with the lab's own sampler chain and seeded
 * generator, so a served model's seeded tokens are `ntl generate`'s.
 */

/** Largest request body accepted (413 past it). */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** Largest prompt, in characters, before it is tokenized. */
export const MAX_PROMPT_CHARS = 256 * 1024;
/** vLLM's default `--max-logprobs`. */
export const MAX_LOGPROBS = 20;
/** What vLLM writes for a log-probability of −∞ (JSON has no infinity). */
export const LOGPROB_FLOOR = -9999;

const Stop = z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).max(4)]).nullable().optional();

/** The body of `POST /v1/completions`: the fields this server applies, and nothing else (an unknown field is a 400, never dropped). */
export const CompletionRequest = z.strictObject({
  model: z.string().min(1).max(512),
  /** A string, or token ids (as OpenAI and vLLM take them). */
  prompt: z.union([
    z.string().min(1, 'prompt is empty').max(MAX_PROMPT_CHARS, `prompt is longer than ${MAX_PROMPT_CHARS} characters`),
    z.array(z.number().int().min(0)).min(1, 'prompt is empty').max(MAX_PROMPT_CHARS, `prompt has more than ${MAX_PROMPT_CHARS} tokens`),
  ]),
  max_tokens: z.number().int().min(0).max(4096).nullable().optional(),
  temperature: z.number().min(0).max(5).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  /** vLLM: −1 (or 0) for off. */
  top_k: z.number().int().min(-1).nullable().optional(),
  min_p: z.number().min(0).max(1).nullable().optional(),
  repetition_penalty: z.number().gt(0).max(10).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  seed: z.number().int().min(0).max(0xffffffff).nullable().optional(),
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS, `logprobs must be at most ${MAX_LOGPROBS}`).nullable().optional(),
  echo: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stop: Stop,
  n: z.literal(1, 'n: this server returns one choice').nullable().optional(),
  user: z.string().max(256).optional(),
  /** vLLM's: tokens in `logprobs` written `token_id:N`, so tokens with the same text stay apart. */
  return_tokens_as_token_ids: z.boolean().nullable().optional(),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** vLLM's `POST /tokenize` for completions. */
export const TokenizeRequest = z.strictObject({
  model: z.string().min(1).max(512),
  prompt: z.string().max(MAX_PROMPT_CHARS, `prompt is longer than ${MAX_PROMPT_CHARS} characters`),
  add_special_tokens: z.boolean().optional(),
  return_token_strs: z.boolean().optional(),
});

/** vLLM's `POST /detokenize`: token ids to their text. */
export const DetokenizeRequest = z.strictObject({
  model: z.string().min(1).max(512),
  tokens: z.array(z.number().int().min(0)).max(MAX_PROMPT_CHARS),
});

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 404 | 405 | 413 | 415 | 500,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const ERROR_TYPES: Record<ApiError['status'], string> = {
  400: 'invalid_request_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  500: 'server_error',
};

export interface ServedModel {
  id: string;
  context: number;
}

export interface OpenAiServerOptions {
  models: readonly ServedModel[];
  /**
   * The loaded model of an id from `models` (loaded on first use, then kept by the caller): the
   * engine contract gives the tokenizer, the next-token logits for our sampler chain and every
   * prompt position's logits for `echo` (ONNX: one pass; GGUF: llama.cpp's distribution after each token).
   */
  load: (id: string) => Promise<EngineModel>;
}


/** The sampler settings an OpenAI request stands for: temperature 0 is greedy; top_p 1, top_k ≤ 0 and min_p 0 are off. */
export function requestSettings(body: CompletionRequest): SamplerSettings {
  const input: SamplerSettingsInput = {};
  const temperature = body.temperature ?? 1;
  if (temperature === 0) input.greedy = true;
  else input.temperature = temperature;
  if (body.top_k !== undefined && body.top_k !== null && body.top_k > 0) input.topK = body.top_k;
  if (body.top_p !== undefined && body.top_p !== null && body.top_p < 1) input.topP = body.top_p;
  if (body.min_p !== undefined && body.min_p !== null && body.min_p > 0) input.minP = body.min_p;
  if (body.repetition_penalty !== undefined && body.repetition_penalty !== null && body.repetition_penalty !== 1) input.repetitionPenalty = body.repetition_penalty;
  if (body.frequency_penalty) input.frequencyPenalty = body.frequency_penalty;
  if (body.presence_penalty) input.presencePenalty = body.presence_penalty;
  const parsed = SamplerSettings.safeParse(input);
  if (!parsed.success) throw new ApiError(400, firstIssue(parsed.error).message);
  return parsed.data;
}

/** A log-probability as JSON can carry it. */
const jsonLogprob = (p: number): number => Math.max(Math.log(p), LOGPROB_FLOOR);

interface LogprobRow {
  token: string;
  /** The token's length in the text (its `token` is `token_id:N` with return_tokens_as_token_ids). */
  chars: number;
  logprob: number | null;
  top: Record<string, number> | null;
}

/** The top `k` of one distribution as OpenAI's `{token: logprob}`, the chosen token always among them (so up to k + 1). */
function topEntries(probs: Float64Array, k: number, chosen: number, text: (id: number) => string): Record<string, number> {
  const out: Record<string, number> = {};
  // The k most likely (ties: lower id first) by a selection, not a sort of the vocabulary.
  for (const id of k > 0 ? topOrder(probs, k) : []) out[text(id)] = jsonLogprob(probs[id] ?? 0);
  const own = text(chosen);
  if (!(own in out)) out[own] = jsonLogprob(probs[chosen] ?? 0);
  return out;
}

function logprobsJson(rows: readonly LogprobRow[], startOffset: number): Record<string, unknown> {
  const offsets: number[] = [];
  let offset = startOffset;
  for (const row of rows) {
    offsets.push(offset);
    offset += row.chars;
  }
  return { tokens: rows.map((r) => r.token), token_logprobs: rows.map((r) => r.logprob), top_logprobs: rows.map((r) => r.top), text_offset: offsets };
}

function firstStop(text: string, stops: readonly string[]): number {
  let at = -1;
  for (const stop of stops) {
    const i = text.indexOf(stop);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new ApiError(415, 'expected a JSON body (Content-Type: application/json)');
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > MAX_REQUEST_BYTES) throw new ApiError(413, `request body of ${declared} bytes is larger than the limit of ${MAX_REQUEST_BYTES}`, 'request_too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_REQUEST_BYTES) throw new ApiError(413, `request body is larger than the limit of ${MAX_REQUEST_BYTES} bytes`, 'request_too_large');
    chunks.push(buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (cause) {
    throw new ApiError(400, `request body is not valid JSON: ${errorMessage(cause)}`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = (issue?.path ?? []).map(String).join('.');
  const message = issue?.code === 'unrecognized_keys' ? `unsupported parameter(s): ${issue.keys.join(', ')}` : `${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid request'}`;
  throw new ApiError(400, message);
}

function sendJson(response: ServerResponse, status: number, data: unknown): void {
  const text = JSON.stringify(data);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(text);
}

const errorBody = (error: ApiError): unknown => ({ error: { message: error.message, type: ERROR_TYPES[error.status], param: null, code: error.code ?? error.status } });

function sendError(response: ServerResponse, error: ApiError): void {
  sendJson(response, error.status, errorBody(error));
}

/** Runs one request at a time: a model's session is not shared between concurrent passes. */
class Queue {
  private last: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.last.then(task, task);
    this.last = next.catch(() => undefined);
    return next;
  }
}

export class OpenAiServer {
  private readonly queue = new Queue();
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(private readonly options: OpenAiServerOptions) {}

  private served(id: string): ServedModel {
    const model = this.options.models.find((m) => m.id === id);
    if (!model) throw new ApiError(404, `The model \`${id}\` does not exist.`, 'model_not_found');
    return model;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const method = request.method ?? 'GET';
      const route = `${method} ${url.pathname.replace(/\/+$/, '')}`;
      switch (route) {
        case 'GET /v1/models':
          return sendJson(response, 200, {
            object: 'list',
            data: this.options.models.map((m) => ({ id: m.id, object: 'model', created: this.created, owned_by: 'next-token-lab', root: m.id, parent: null, max_model_len: m.context })),
          });
        case 'POST /tokenize':
          return sendJson(response, 200, await this.tokenize(await readBody(request)));
        case 'POST /detokenize':
          return sendJson(response, 200, await this.detokenize(await readBody(request)));
        case 'POST /v1/completions':
          return await this.complete(parseWith(CompletionRequest, await readBody(request)), response);
        default:
          if (['/v1/models', '/tokenize', '/detokenize', '/v1/completions'].includes(url.pathname)) throw new ApiError(405, `${method} is not allowed on ${url.pathname}`);
          throw new ApiError(404, `no such endpoint: ${url.pathname}`);
      }
    } catch (cause) {
      const error = cause instanceof ApiError ? cause : new ApiError(500, errorMessage(cause));
      // Once a stream has begun, the error goes out as one more event (as vLLM sends it), then [DONE].
      if (response.headersSent) response.end(`data: ${JSON.stringify(errorBody(error))}\n\ndata: [DONE]\n\n`);
      else sendError(response, error);
    }
  }

  private async tokenize(body: unknown): Promise<Record<string, unknown>> {
    const request = parseWith(TokenizeRequest, body);
    const served = this.served(request.model);
    const model = await this.options.load(served.id);
    const ids = model.tokenizer.encode(request.prompt);
    return {
      count: ids.length,
      max_model_len: served.context,
      tokens: ids,
      ...(request.return_token_strs === true ? { token_strs: ids.map((id) => model.tokenizer.piece(id).text) } : {}),
    };
  }

  private async detokenize(body: unknown): Promise<Record<string, unknown>> {
    const request = parseWith(DetokenizeRequest, body);
    const model = await this.options.load(this.served(request.model).id);
    return { prompt: request.tokens.map((id) => model.tokenizer.piece(id).text).join('') };
  }

  private async complete(body: CompletionRequest, response: ServerResponse): Promise<void> {
    const served = this.served(body.model);
    const settings = requestSettings(body);
    const maxTokens = body.max_tokens ?? 16;
    const echo = body.echo === true;
    const k = body.logprobs ?? null;
    if (maxTokens === 0 && !echo) throw new ApiError(400, 'max_tokens: must be at least 1 unless echo is true');
    const stops = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
    const seed = body.seed ?? randomInt(0, 0xffffffff);
    const model = await this.options.load(served.id);
    const vocab = model.config.vocabSize;
    const outside = typeof body.prompt === 'string' ? undefined : body.prompt.find((tokenId) => tokenId >= vocab);
    if (outside !== undefined) throw new ApiError(400, `prompt: token id ${outside} is not in the vocabulary (0 to ${vocab - 1})`);
    const promptIds = typeof body.prompt === 'string' ? model.tokenizer.encode(body.prompt) : [...body.prompt];
    if (promptIds.length === 0) throw new ApiError(400, 'the prompt has no tokens');
    if (promptIds.length > served.context) {
      throw new ApiError(400, `This model's maximum context length is ${served.context} tokens. However, your prompt has ${promptIds.length} tokens.`);
    }
    const text = (id: number): string => model.tokenizer.piece(id).text;
    // How a token is named in logprobs: its text, or vLLM's `token_id:N` when asked.
    const named = body.return_tokens_as_token_ids === true ? (tokenId: number): string => `token_id:${tokenId}` : text;
    const id = `cmpl-${randomBytes(12).toString('hex')}`;
    const head = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: served.id };
    const stream = body.stream === true;
    let closed = false;
    response.on('close', () => (closed = !response.writableFinished));
    if (stream) response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const chunk = (data: unknown): void => {
      if (!closed) response.write(`data: ${JSON.stringify(data)}\n\n`);
    };

    await this.queue.run(async () => {
      const echoRows: LogprobRow[] = [];
      if (echo && k !== null) {
        const { logits, vocab } = await model.positionLogits(promptIds);
        promptIds.forEach((tokenId, position) => {
          const chars = text(tokenId).length;
          if (position === 0) return echoRows.push({ token: named(tokenId), chars, logprob: null, top: null });
          const probs = softmax(logits.subarray((position - 1) * vocab, position * vocab));
          return echoRows.push({ token: named(tokenId), chars, logprob: jsonLogprob(probs[tokenId] ?? 0), top: topEntries(probs, k, tokenId, named) });
        });
      }
      const promptText = echo ? promptIds.map(text).join('') : '';
      if (stream && echo) chunk({ ...head, choices: [{ index: 0, text: promptText, logprobs: k === null ? null : logprobsJson(echoRows, 0), finish_reason: maxTokens === 0 ? 'length' : null, stop_reason: null }] });

      let state: GenerationState = { ids: [...promptIds], steps: [], rngState: new SeededRandom(seed).snapshot, stopReason: null };
      const rows: LogprobRow[] = [];
      let generated = '';
      let finish: 'length' | 'stop' = 'length';
      let stopReason: string | null = null;
      for (let i = 0; i < maxTokens && !closed; i++) {
        let probs: Float64Array | null = null;
        const before = state.steps.length;
        state = await generationStep(model, state, settings, { onChain: (result) => (probs = result.probs) });
        if (state.stopReason === 'context-full' || state.steps.length === before) break;
        const step = state.steps.at(-1);
        if (!step) break;
        const distribution: Float64Array | null = probs;
        const row: LogprobRow = {
          token: named(step.id),
          chars: step.token.length,
          logprob: distribution ? jsonLogprob(distribution[step.id] ?? 0) : null,
          top: k !== null && distribution ? topEntries(distribution, k, step.id, named) : null,
        };
        // The end-of-text token stays in logprobs but not in the text (vLLM's skip_special_tokens).
        const isEnd = state.stopReason === 'end-of-text';
        const all = generated + (isEnd ? '' : step.token);
        const at = firstStop(all, stops);
        const offset = promptText.length + generated.length;
        // As OpenAI does, the text ends before a stop string (the tokens in logprobs stay whole).
        const piece = at >= 0 ? all.slice(generated.length, Math.max(generated.length, at)) : all.slice(generated.length);
        if (at >= 0) {
          finish = 'stop';
          stopReason = stops.find((s) => all.indexOf(s) === at) ?? null;
        } else if (isEnd) finish = 'stop';
        generated = at >= 0 ? all.slice(0, at) : all;
        rows.push(row);
        if (stream) {
          const done = finish === 'stop' || i === maxTokens - 1;
          chunk({ ...head, choices: [{ index: 0, text: piece, logprobs: k === null ? null : logprobsJson([row], offset), finish_reason: done ? finish : null, stop_reason: done ? stopReason : null }] });
        }
        if (finish === 'stop') break;
      }
      if (stream && maxTokens > 0 && rows.length < maxTokens && finish === 'length') {
        // Stopped by a full context before max_tokens: the last chunk says so.
        chunk({ ...head, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'length', stop_reason: null }] });
      }
      const usage = { prompt_tokens: promptIds.length, completion_tokens: rows.length, total_tokens: promptIds.length + rows.length };
      if (stream) {
        chunk({ ...head, choices: [], usage });
        if (!closed) response.end('data: [DONE]\n\n');
        return;
      }
      const logprobs = k === null ? null : logprobsJson([...echoRows, ...rows], 0);
      sendJson(response, 200, { ...head, choices: [{ index: 0, text: promptText + generated, logprobs, finish_reason: finish, stop_reason: stopReason }], usage });
    });
  }
}

/** Starts the server on 127.0.0.1 (never another address); `port` 0 picks a free one. */
export async function startOpenAiServer(options: OpenAiServerOptions, port: number): Promise<{ server: Server; url: string }> {
  const api = new OpenAiServer(options);
  const server = createServer((request, response) => void api.handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return { server, url: `http://127.0.0.1:${actual}` };
}
