import { remoteSampling, type RemoteSampling } from '../common/remote-sampling';
import type { SamplerSettings } from '../common/sampler-settings';
import { columnMetrics, type ColumnMetrics } from '../engine/sampling/metrics';
import type { RemoteClient } from './openai-client';
import type { RemoteToken, RemoteTokenization, RemoteTopToken } from './openai-responses';

/**
 * What the lab computes from a served model's answers, for `ntl` and the app's remote cells alike:
 * its tokens, its top-K next-token distribution, a generated column and the prompt's surprisal. Each
 * result says what the server did not give (the rest of the vocabulary, ranks past K, settings).
 */

/** Two tokens are the same by id where the server gave both ids, else by text. */
export const isSameToken = (a: { id: number | null; token: string }, b: { id: number | null; token: string }): boolean => (a.id !== null && b.id !== null ? a.id === b.id : a.token === b.token);

/** The first `k` distinct alternatives (by id where the server gave ids); a server that gives fewer than asked is an error, never a shorter list. */
export function topOf(client: RemoteClient, token: RemoteToken | undefined, k: number, where: string): RemoteTopToken[] {
  const top = token?.top ?? null;
  if (top === null) throw new Error(`server ${client.root}: no top log-probabilities for ${where} (does it support "logprobs" on /v1/completions?)`);
  const seen = new Set<string>();
  const distinct = top.filter((t) => {
    const key = t.id === null ? `text ${t.token}` : `id ${t.id}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  if (distinct.length < k) {
    throw new Error(`server ${client.root}: returned ${distinct.length} log-probabilities for ${where} where ${k} were asked (vLLM allows 20 unless started with a larger --max-logprobs)`);
  }
  return distinct.slice(0, k);
}

export const entropyOf = (probs: readonly number[]): number => probs.reduce((h, p) => (p > 0 ? h - p * Math.log2(p) : h), 0);

/** The prompt's tokens: the server's `/tokenize` where it has one, else the tokens echoed back (without ids). */
export async function remoteTokens(client: RemoteClient, prompt: string, cancel?: AbortSignal): Promise<{ via: 'tokenize' | 'echo'; tokenization: RemoteTokenization }> {
  const tokenization = await client.tokenize(prompt);
  if (tokenization) return { via: 'tokenize', tokenization };
  const echoed = await client.complete({ prompt, max_tokens: 0, echo: true, logprobs: 0, temperature: 0 }, cancel);
  if (!echoed.tokens) throw new Error(`server ${client.root}: it has no /tokenize and returned no tokens with echo`);
  return { via: 'echo', tokenization: { ids: echoed.tokens.map((t) => t.id ?? -1), texts: echoed.tokens.map((t) => t.token), maxModelLen: null } };
}

export interface RemotePrediction {
  top: { id: number | null; token: string; prob: number; logit: null; logprob: number }[];
  /** 1 − the top K's mass: every other token of the vocabulary, as one bar. */
  otherMass: number;
  /** Over the top K only (bits): the server does not send the rest. */
  entropy: number;
  elapsedMs: number;
}

/** The next token's top K at temperature 1: one token requested with `logprobs: K`. */
export async function remotePredict(client: RemoteClient, prompt: string, k: number, cancel?: AbortSignal): Promise<RemotePrediction> {
  const started = performance.now();
  const completion = await client.complete({ prompt, max_tokens: 1, logprobs: k, temperature: 0 }, cancel);
  const elapsedMs = performance.now() - started;
  const next = completion.tokens?.at(-1);
  if (!completion.tokens || !next) throw new Error(`server ${client.root}: returned no log-probabilities (does it support "logprobs" on /v1/completions?)`);
  const top = topOf(client, next, k, 'the next token').map((t) => ({ id: t.id, token: t.token, prob: Math.exp(t.logprob), logit: null, logprob: t.logprob }));
  const shown = top.reduce((a, t) => a + t.prob, 0);
  return { top, otherMass: Math.max(0, 1 - shown), entropy: entropyOf(top.map((t) => t.prob)), elapsedMs };
}

export interface RemoteStep {
  id: number | null;
  token: string;
  prob: number | null;
  /** 1-based, within the top K the server returned; null past it. */
  rank: number | null;
  kept: null;
  entropy: null;
  top: { id: number | null; token: string; prob: number }[];
}

export interface RemoteColumnOptions {
  settings: SamplerSettings;
  seed: number;
  maxTokens: number;
  stop?: string;
  /** How many alternatives each step shows. */
  k?: number;
  cancel?: AbortSignal;
  /** Each step as it streams in. */
  onStep?: (step: RemoteStep, index: number) => void;
}

export interface RemoteColumn extends RemoteSampling {
  steps: RemoteStep[];
  /** Every generated token joined, as a local run spells it (the end-of-text or stop-completing token included). */
  generated: string;
  /** The server's own text: without the end-of-text token and cut before a stop string (OpenAI's way). */
  serverText: string;
  stepsNote: string | null;
  stopReason: string | null;
  metrics: ColumnMetrics;
  elapsedMs: number;
}

/** One column generated by the server, streamed (server-sent events), with the settings mapped to its parameters; the prompt as text or as token ids. */
export async function remoteColumn(client: RemoteClient, prompt: string | readonly number[], options: RemoteColumnOptions): Promise<RemoteColumn> {
  const k = options.k ?? 5;
  const { sent, notApplied } = remoteSampling(options.settings);
  const stepOf = (t: RemoteToken): RemoteStep => {
    const top = t.top ?? [];
    const at = top.findIndex((a) => isSameToken(a, t));
    return {
      id: t.id,
      token: t.token,
      prob: t.logprob === null ? null : Math.exp(t.logprob),
      rank: at >= 0 && at < k ? at + 1 : null,
      kept: null,
      entropy: null,
      top: top.slice(0, k).map((a) => ({ id: a.id, token: a.token, prob: Math.exp(a.logprob) })),
    };
  };
  let streamed = 0;
  const started = performance.now();
  const completion = await client.stream(
    { prompt: typeof prompt === 'string' ? prompt : [...prompt], max_tokens: options.maxTokens, seed: options.seed, logprobs: k, ...sent, ...(options.stop === undefined ? {} : { stop: options.stop }) },
    (piece) => {
      for (const t of piece.tokens ?? []) options.onStep?.(stepOf(t), streamed++);
    },
    options.cancel,
  );
  const elapsedMs = performance.now() - started;
  const tokens = completion.tokens ?? [];
  const steps = tokens.map(stepOf);
  const generated = completion.tokens === null ? completion.text : steps.map((s) => s.token).join('');
  const stop = options.stop;
  const stopReason =
    completion.finishReason === 'length'
      ? 'max-tokens'
      : completion.finishReason === 'stop'
        ? stop !== undefined && steps.map((s) => s.token).join('').includes(stop)
          ? 'stop-string'
          : 'end-of-text'
        : completion.finishReason;
  const measured = steps.flatMap((s) => (s.prob === null ? [] : [{ id: s.id ?? -1, prob: s.prob }]));
  const metrics = columnMetrics([], measured, elapsedMs);
  return {
    sent,
    notApplied,
    steps,
    generated,
    serverText: completion.text,
    stepsNote: completion.tokens === null ? 'the server returned no log-probabilities: the text only' : null,
    stopReason,
    // Distinct tokens, repetition and entropy need ids and distributions the server may not give: only what it gave.
    metrics: { ...metrics, distinct1: null, distinct2: null, repetitionRate: null, meanEntropy: null },
    elapsedMs,
  };
}

export interface SurprisalRow {
  position: number;
  id: number | null;
  text: string;
  prob: number | null;
  logprob: number | null;
  bits: number | null;
  /** 1-based rank; null when the server did not rank it (not among its top K). */
  rank: number | null;
  /** The K tokens the model found most likely at this position; null for the first. */
  expected: { id: number | null; token: string; prob: number }[] | null;
}

export function surprisalSummary(rows: readonly SurprisalRow[]): { total_bits: number; mean_bits: number | null; perplexity: number | null } {
  const bits = rows.flatMap((r) => (r.bits === null ? [] : [r.bits]));
  const total = bits.reduce((a, b) => a + b, 0);
  const mean = bits.length === 0 ? null : total / bits.length;
  return { total_bits: total, mean_bits: mean, perplexity: mean === null ? null : 2 ** mean };
}

/** Every prompt token's probability, bits and rank (within the top K), through `echo` with `logprobs: K`. */
export async function remoteSurprisal(client: RemoteClient, prompt: string, k: number, cancel?: AbortSignal): Promise<{ rows: SurprisalRow[]; elapsedMs: number }> {
  const started = performance.now();
  const completion = await client.complete({ prompt, max_tokens: 0, echo: true, logprobs: k, temperature: 0 }, cancel);
  const elapsedMs = performance.now() - started;
  const tokens = completion.tokens;
  if (!tokens || tokens.length === 0) throw new Error(`server ${client.root}: returned no prompt log-probabilities (does it support "echo" with "logprobs"?)`);
  const tokenization = tokens.some((t) => t.id === null) ? await client.tokenize(prompt).catch(() => null) : null;
  const ids = tokenization && tokenization.ids.length === tokens.length ? tokenization.ids : null;
  const rows: SurprisalRow[] = tokens.map((t, position) => {
    const prob = position === 0 || t.logprob === null ? null : Math.exp(t.logprob);
    const top = position === 0 ? [] : topOf(client, t, k, `prompt token ${position}`);
    const at = top.findIndex((a) => isSameToken(a, t));
    return {
      position,
      id: t.id ?? ids?.[position] ?? null,
      text: t.token,
      prob,
      logprob: prob === null ? null : (t.logprob ?? null),
      bits: prob === null ? null : -(t.logprob ?? 0) / Math.LN2,
      rank: at >= 0 && at < k ? at + 1 : null,
      expected: position === 0 ? null : top.map((a) => ({ id: a.id, token: a.token, prob: Math.exp(a.logprob) })),
    };
  });
  return { rows, elapsedMs };
}
