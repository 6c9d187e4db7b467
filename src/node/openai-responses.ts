import { z } from 'zod';

/**
 * Reading what OpenAI-compatible servers answer, with their documented differences:
 * - vLLM and OpenAI's legacy completions: `choices[0].logprobs = {tokens, token_logprobs, top_logprobs:
 *   [{token: logprob} | null], text_offset}`; the first echoed prompt token has null; vLLM writes −∞
 *   as −9999.0 and, with `return_tokens_as_token_ids`, tokens as `token_id:123`.
 * - llama.cpp's server: `choices[0].logprobs.content = [{id, token, bytes, logprob, top_logprobs:
 *   [{id, token, bytes, logprob}]}]` (the chat format, on completions too); `/tokenize` answers
 *   `{tokens: [id]}` or, with `with_pieces`, `{tokens: [{id, piece}]}`.
 * - Ollama's OpenAI endpoint: no `echo`, and `logprobs` missing or null on completions.
 * - Python servers may write `-Infinity` or `NaN`, which is not JSON.
 */

/** A log-probability at or below this is vLLM's −∞. */
const FLOOR = -9999;

export interface RemoteTopToken {
  token: string;
  /** The token id where the server gave one. */
  id: number | null;
  logprob: number;
}

export interface RemoteToken {
  token: string;
  id: number | null;
  /** Null where nothing predicts it (the first prompt token). */
  logprob: number | null;
  /** Alternatives, most likely first; null where the server gave none for this position. */
  top: RemoteTopToken[] | null;
}

export interface RemoteCompletion {
  text: string;
  finishReason: string | null;
  /** Null when the server returned no log-probabilities at all. */
  tokens: RemoteToken[] | null;
}

/** JSON.parse, and where that fails on Python's `-Infinity`/`Infinity`/`NaN` outside strings, again with them replaced. */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    const fixed = text.replace(/("(?:[^"\\]|\\.)*")|(-?)Infinity\b|\bNaN\b/g, (match, quoted: string | undefined, sign: string | undefined) =>
      quoted !== undefined ? quoted : match === 'NaN' ? 'null' : `${sign ?? ''}1e999`,
    );
    if (fixed === text) throw first;
    return JSON.parse(fixed);
  }
}

const LogprobValue = z.number().nullable();

const Legacy = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(LogprobValue).optional(),
  top_logprobs: z.array(z.record(z.string(), LogprobValue).nullable()).nullable().optional(),
  text_offset: z.array(z.number()).optional(),
});

const Bytes = z.array(z.number().int().min(0).max(255)).nullable().optional();
const ContentTop = z.object({ id: z.number().int().optional(), token: z.string().optional(), bytes: Bytes, logprob: LogprobValue });
const ContentEntry = ContentTop.extend({ top_logprobs: z.array(ContentTop).nullable().optional() });
const Content = z.object({ content: z.array(ContentEntry).nullable() });

const Choice = z.object({
  text: z.string().nullable().optional(),
  finish_reason: z.string().nullable().optional(),
  logprobs: z.unknown().optional(),
});

export const CompletionResponse = z.object({ choices: z.array(Choice) });

const normalLogprob = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : v <= FLOOR ? -Infinity : v);

/** vLLM's `token_id:123` (with `return_tokens_as_token_ids`): a token named by its id, its text still to be asked for. */
export const isIdNamed = (t: { token: string; id: number | null }): t is { token: string; id: number } => t.id !== null && /^token_id:\d+$/.test(t.token);

/** vLLM's `token_id:123` (with `return_tokens_as_token_ids`). */
function splitTokenId(token: string): { token: string; id: number | null } {
  const match = /^token_id:(\d+)$/.exec(token);
  return match ? { token, id: Number(match[1]) } : { token, id: null };
}

const decoder = new TextDecoder();
function tokenText(entry: z.infer<typeof ContentTop>): string {
  if (entry.token !== undefined) return entry.token;
  return entry.bytes ? decoder.decode(new Uint8Array(entry.bytes)) : '';
}

const byLogprob = (a: RemoteTopToken, b: RemoteTopToken): number => b.logprob - a.logprob;

/** One choice's log-probabilities in either layout, or null when the server sent none. */
export function parseLogprobs(raw: unknown): RemoteToken[] | null {
  if (raw === null || raw === undefined) return null;
  const content = Content.safeParse(raw);
  if (content.success && content.data.content !== null) {
    return content.data.content.map((entry) => ({
      token: tokenText(entry),
      id: entry.id ?? null,
      logprob: normalLogprob(entry.logprob),
      top:
        entry.top_logprobs === null || entry.top_logprobs === undefined
          ? null
          : entry.top_logprobs.map((t) => ({ token: tokenText(t), id: t.id ?? null, logprob: normalLogprob(t.logprob) ?? -Infinity })).sort(byLogprob),
    }));
  }
  const legacy = Legacy.safeParse(raw);
  if (!legacy.success) throw new Error(`log-probabilities in an unknown layout (${legacy.error.issues[0]?.path.join('.') ?? ''}: ${legacy.error.issues[0]?.message ?? ''})`);
  const { tokens, token_logprobs: values, top_logprobs: tops } = legacy.data;
  return tokens.map((token, i) => {
    const top = tops?.[i];
    return {
      ...splitTokenId(token),
      logprob: normalLogprob(values?.[i]),
      top: top === null || top === undefined ? null : Object.entries(top).map(([t, v]) => ({ ...splitTokenId(t), logprob: normalLogprob(v) ?? -Infinity })).sort(byLogprob),
    };
  });
}

/** The first choice of a completion (or of one streamed chunk; a chunk with no choice gives null). */
export function parseCompletion(body: unknown): RemoteCompletion | null {
  const parsed = CompletionResponse.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`not a completion (${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'unexpected shape'})`);
  }
  const choice = parsed.data.choices[0];
  if (!choice) return null;
  return { text: choice.text ?? '', finishReason: choice.finish_reason ?? null, tokens: parseLogprobs(choice.logprobs) };
}

export interface RemoteTokenization {
  ids: number[];
  /** Each token's text, where the server gave it. */
  texts: (string | null)[];
  maxModelLen: number | null;
}

const TokenizeResponse = z.object({
  tokens: z.array(z.union([z.number().int(), z.object({ id: z.number().int(), piece: z.union([z.string(), z.array(z.number())]) })])),
  token_strs: z.array(z.string()).nullable().optional(),
  max_model_len: z.number().int().nullable().optional(),
});

/** vLLM's `/tokenize` answer, or llama.cpp's (ids, or `{id, piece}` with `with_pieces`). */
export function parseTokenize(body: unknown): RemoteTokenization {
  const parsed = TokenizeResponse.safeParse(body);
  if (!parsed.success) throw new Error(`not a /tokenize answer (${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message ?? ''})`);
  const { tokens, token_strs: strs } = parsed.data;
  return {
    ids: tokens.map((t) => (typeof t === 'number' ? t : t.id)),
    texts: tokens.map((t, i) => (typeof t === 'number' ? (strs?.[i] ?? null) : typeof t.piece === 'string' ? t.piece : decoder.decode(new Uint8Array(t.piece)))),
    maxModelLen: parsed.data.max_model_len ?? null,
  };
}

const ModelList = z.object({ data: z.array(z.object({ id: z.string(), max_model_len: z.number().int().nullable().optional() })) });

export function parseModelList(body: unknown): { id: string; maxModelLen: number | null }[] {
  const parsed = ModelList.safeParse(body);
  if (!parsed.success) throw new Error('not a model list (expected {data: [{id}]})');
  return parsed.data.data.map((m) => ({ id: m.id, maxModelLen: m.max_model_len ?? null }));
}

/** The message of an error body: OpenAI's `{error: {message}}`, `{error: "..."}`, `{message}` or `{detail}`. */
export function errorBodyMessage(body: unknown): string | null {
  const parsed = z
    .union([
      z.object({ error: z.object({ message: z.string() }) }).transform((b) => b.error.message),
      z.object({ error: z.string() }).transform((b) => b.error),
      z.object({ message: z.string() }).transform((b) => b.message),
      z.object({ detail: z.string() }).transform((b) => b.detail),
    ])
    .safeParse(body);
  return parsed.success ? parsed.data : null;
}

/** vLLM's `POST /detokenize` answer: `{prompt: text}`. */
export function parseDetokenize(body: unknown): string {
  return z.object({ prompt: z.string() }).parse(body).prompt;
}
