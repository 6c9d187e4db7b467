import type { SamplerSettings } from '../common/sampler-settings';
import { RemoteClient } from '../node/openai-client';
import type { RemoteToken, RemoteTokenization, RemoteTopToken } from '../node/openai-responses';
import { UsageError, numberOption, stringOption, type ParsedCommand } from './args';
import type { CommandOutput } from './commands';
import { SAMPLER_FLAGS, decoderFromFlags } from './sampler-options';
import { fixed, quoted, table } from './table';

/**
 * `--model remote:NAME --base-url URL`: a model served elsewhere over the OpenAI-compatible
 * completions API. Not an engine behind the engine contract: that contract hands out full-vocabulary
 * logits, a local tokenizer and the model's config, and a server gives none of them (only the top-K
 * log-probabilities of what it sampled itself), so a remote model is this separate client and says
 * in its JSON (`"source": "remote"`, `entropy_scope: "top-k"`, `not_applied`) what it could not see.
 */

export const REMOTE_PREFIX = 'remote:';

export function isRemoteModel(values: ParsedCommand['values']): boolean {
  return stringOption(values, 'model')?.startsWith(REMOTE_PREFIX) === true;
}

/** Flags that run or edit a local model: meaningless for a served one, so refused rather than ignored. */
const LOCAL_ONLY = ['variant', 'backend', 'threads', 'no-cache', 'ablate-head'];

/** Plain http:// to a host other than this machine: worth a warning (the prompt and key travel in clear). */
export function isPlainHttpAway(baseUrl: string): boolean {
  try {
    const url = new URL(baseUrl);
    return url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) && !url.hostname.startsWith('127.');
  } catch {
    return false;
  }
}

export function remoteClient(values: ParsedCommand['values']): RemoteClient {
  const model = (stringOption(values, 'model') ?? '').slice(REMOTE_PREFIX.length);
  if (model === '') throw new UsageError('--model remote:NAME: name the served model, e.g. remote:meta-llama/Llama-3.1-8B');
  const baseUrl = stringOption(values, 'base-url');
  if (baseUrl === undefined) throw new UsageError('--base-url is required with --model remote:NAME (e.g. http://127.0.0.1:8000/v1)');
  for (const flag of LOCAL_ONLY) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag}: not for a remote model (the server runs it)`);
  }
  const timeout = numberOption(values, 'timeout', { min: 0.1, max: 3600 }) ?? 60;
  if (isPlainHttpAway(baseUrl)) process.stderr.write(`ntl: warning: ${baseUrl} is plain http:// to another machine: the prompt${process.env['NTL_API_KEY'] ? ' and the API key' : ''} travel unencrypted\n`);
  const apiKey = process.env['NTL_API_KEY'];
  return new RemoteClient({ baseUrl, model, apiKey: apiKey === '' ? undefined : apiKey, timeoutMs: timeout * 1000 });
}

function promptOf(values: ParsedCommand['values']): string {
  const prompt = stringOption(values, 'prompt');
  if (prompt === undefined) throw new UsageError('--prompt is required');
  if (prompt === '') throw new UsageError('the prompt is empty');
  return prompt;
}

interface RemoteTiming {
  backend: 'remote';
  threads: null;
  load_ms: 0;
  forward_ms: number;
  kv_cache: false;
  kv_cache_note: string;
}

const remoteTiming = (ms: number): RemoteTiming => ({
  backend: 'remote',
  threads: null,
  load_ms: 0,
  forward_ms: Math.round(ms * 10) / 10,
  kv_cache: false,
  kv_cache_note: 'the server keeps its own cache; the lab cannot see it',
});

function header(client: RemoteClient): string {
  return `remote ${client.model} at ${client.root}`;
}

/** The first `k` distinct alternatives; a server that gives fewer than asked is an error, never a shorter list. */
function topOf(client: RemoteClient, token: RemoteToken | undefined, k: number, where: string): RemoteTopToken[] {
  const top = token?.top ?? null;
  if (top === null) throw new Error(`server ${client.root}: no top log-probabilities for ${where} (does it support "logprobs" on /v1/completions?)`);
  const seen = new Set<string>();
  const distinct = top.filter((t) => (seen.has(t.token) ? false : (seen.add(t.token), true)));
  if (distinct.length < k) {
    throw new Error(`server ${client.root}: returned ${distinct.length} log-probabilities for ${where} where ${k} were asked (vLLM allows 20 unless started with a larger --max-logprobs)`);
  }
  return distinct.slice(0, k);
}

const entropyOf = (probs: readonly number[]): number => probs.reduce((h, p) => (p > 0 ? h - p * Math.log2(p) : h), 0);

async function tokensOf(client: RemoteClient, prompt: string): Promise<{ via: 'tokenize' | 'echo'; tokenization: RemoteTokenization }> {
  const tokenization = await client.tokenize(prompt);
  if (tokenization) return { via: 'tokenize', tokenization };
  const echoed = await client.complete({ prompt, max_tokens: 0, echo: true, logprobs: 0, temperature: 0 });
  if (!echoed.tokens) throw new Error(`server ${client.root}: it has no /tokenize and returned no tokens with echo`);
  return { via: 'echo', tokenization: { ids: echoed.tokens.map((t) => t.id ?? -1), texts: echoed.tokens.map((t) => t.token), maxModelLen: null } };
}

const tokenJson = (t: RemoteTokenization): { id: number | null; text: string | null }[] => t.ids.map((id, i) => ({ id: id < 0 ? null : id, text: t.texts[i] ?? null }));

export async function remoteTokenizeCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const client = remoteClient(values);
  const prompt = promptOf(values);
  const { via, tokenization } = await tokensOf(client, prompt);
  const tokens = tokenJson(tokenization);
  const text = [
    `${header(client)} · ${tokens.length} tokens (via ${via === 'tokenize' ? '/tokenize' : 'echo'})`,
    table([{ title: 'pos', align: 'right' }, { title: 'id', align: 'right' }, { title: 'text' }], tokens.map((t, i) => [i, t.id, t.text === null ? null : quoted(t.text)])),
  ].join('\n');
  return { source: 'remote', json: { model: client.model, base_url: client.root, count: tokens.length, tokens, tokenized_by: via }, text };
}

export async function remotePredictCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const client = remoteClient(values);
  const k = numberOption(values, 'top', { integer: true, min: 1, max: 20 }) ?? 10;
  const temperature = numberOption(values, 'temperature');
  if (temperature !== undefined && temperature !== 1) {
    throw new UsageError('--temperature: a server returns the top-K log-probabilities at temperature 1; another temperature needs the whole vocabulary, which it does not send');
  }
  const prompt = promptOf(values);
  const started = performance.now();
  const completion = await client.complete({ prompt, max_tokens: 1, logprobs: k, temperature: 0 });
  const forwardMs = performance.now() - started;
  const next = completion.tokens?.at(-1);
  if (!completion.tokens || !next) throw new Error(`server ${client.root}: returned no log-probabilities (does it support "logprobs" on /v1/completions?)`);
  const top = topOf(client, next, k, 'the next token').map((t) => ({ id: t.id, token: t.token, prob: Math.exp(t.logprob), logit: null, logprob: t.logprob }));
  const shown = top.reduce((a, t) => a + t.prob, 0);
  const otherMass = Math.max(0, 1 - shown);
  const entropy = entropyOf(top.map((t) => t.prob));
  const tokenization = await client.tokenize(prompt).catch(() => null);
  const time = remoteTiming(forwardMs);
  const json = {
    model: client.model,
    base_url: client.root,
    tokens: tokenization ? tokenJson(tokenization) : null,
    truncated: 0,
    temperature: 1,
    top,
    other_mass: otherMass,
    entropy,
    entropy_scope: 'top-k',
    timing: time,
  };
  const text = [
    `${header(client)} · entropy over the top ${k} ${fixed(entropy, 3)} bits`,
    table(
      [{ title: 'rank', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: 'logprob', align: 'right' }],
      [...top.map((t, i) => [i + 1, quoted(t.token), fixed(t.prob, 4), fixed(t.logprob, 3)]), ['', 'all other tokens', fixed(otherMass, 4), '']],
    ),
    `remote · request ${time.forward_ms} ms`,
  ].join('\n');
  return { source: 'remote', json, text };
}

/** The completions API's names for the lab's sampler settings (vLLM's sampling parameters). */
const SENT = [
  ['temperature', 'temperature'],
  ['topK', 'top_k'],
  ['topP', 'top_p'],
  ['minP', 'min_p'],
  ['repetitionPenalty', 'repetition_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['presencePenalty', 'presence_penalty'],
] as const satisfies readonly (readonly [keyof SamplerSettings, string])[];
const SENT_KEYS: ReadonlySet<string> = new Set(SENT.map(([key]) => key));

/** The request's sampling parameters, and the flags given that no completions server applies. */
export function samplingRequest(settings: SamplerSettings, values: ParsedCommand['values']): { sent: Record<string, number>; notApplied: string[] } {
  const sent: Record<string, number> = {};
  if (settings.greedy) sent['temperature'] = 0;
  for (const [key, name] of SENT) {
    const value = settings[key];
    if (value !== undefined && !(settings.greedy && key === 'temperature')) sent[name] = value;
  }
  const notApplied: string[] = [];
  for (const [flag, key] of Object.entries(SAMPLER_FLAGS)) {
    if (values[flag] !== undefined && !SENT_KEYS.has(key)) notApplied.push(`--${flag}`);
  }
  if (values['order'] !== undefined) notApplied.push('--order');
  return { sent, notApplied };
}

export async function remoteGenerateCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const client = remoteClient(values);
  const decoder = decoderFromFlags(values);
  if (decoder.kind === 'beam') throw new UsageError('--strategy beam: a completions server does not run the lab\'s beam search');
  const seed = numberOption(values, 'seed', { integer: true, min: 0, max: 0xffffffff }) ?? 42;
  const maxTokens = numberOption(values, 'max-tokens', { integer: true, min: 1, max: 4096 }) ?? 12;
  const stop = stringOption(values, 'stop');
  if (stop === '') throw new UsageError('--stop: the stop string is empty');
  const prompt = promptOf(values);
  const { sent, notApplied } = samplingRequest(decoder.settings, values);
  const k = 5;
  const started = performance.now();
  const completion = await client.stream({ prompt, max_tokens: maxTokens, seed, logprobs: k, ...sent, ...(stop === undefined ? {} : { stop }) });
  const elapsed = performance.now() - started;
  const tokens = completion.tokens ?? [];
  const steps = tokens.map((t) => {
    const top = t.top ?? [];
    const at = top.findIndex((a) => a.token === t.token);
    return {
      id: t.id,
      token: t.token,
      prob: t.logprob === null ? null : Math.exp(t.logprob),
      rank: at >= 0 && at < k ? at + 1 : null,
      kept: null,
      entropy: null,
      top: top.slice(0, k).map((a) => ({ id: a.id, token: a.token, prob: Math.exp(a.logprob) })),
    };
  });
  // As a local run spells it: every generated token, the end-of-text or stop-completing one included.
  const generated = completion.tokens === null ? completion.text : steps.map((s) => s.token).join('');
  const logs = steps.flatMap((s) => (s.prob === null ? [] : [Math.log(s.prob)]));
  const meanLogProb = logs.length === 0 ? null : logs.reduce((a, b) => a + b, 0) / logs.length;
  const stopReason =
    completion.finishReason === 'length' ? 'max-tokens' : completion.finishReason === 'stop' ? (stop !== undefined && tokens.map((t) => t.token).join('').includes(stop) ? 'stop-string' : 'end-of-text') : completion.finishReason;
  const json = {
    model: client.model,
    base_url: client.root,
    prompt,
    truncated: 0,
    strategy: decoder.name,
    settings: decoder.settings,
    sent,
    not_applied: notApplied.map((flag) => ({ flag, reason: 'not applied by this server: the completions API has no such parameter' })),
    seed,
    max_tokens: maxTokens,
    stop: stop ?? null,
    text: prompt + generated,
    generated,
    // The server's own text: without the end-of-text token and cut before a stop string (OpenAI's way).
    server_text: completion.text,
    steps,
    ...(completion.tokens === null ? { steps_note: 'the server returned no log-probabilities: the text only' } : {}),
    stop_reason: stopReason,
    metrics: { tokens: steps.length, mean_log_prob: meanLogProb, perplexity: meanLogProb === null ? null : Math.exp(-meanLogProb), tokens_per_second: elapsed > 0 ? (steps.length * 1000) / elapsed : null },
    timing: remoteTiming(elapsed),
  };
  const text = [
    json.text,
    '',
    table(
      [{ title: 'step', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: 'rank', align: 'right' }],
      steps.map((s, i) => [i + 1, quoted(s.token), s.prob === null ? null : fixed(s.prob, 4), s.rank]),
    ),
    ...notApplied.map((flag) => `not applied by this server: ${flag}`),
    `stopped: ${stopReason ?? 'unknown'} · ${decoder.name} · seed ${seed} · sampled by ${header(client)}`,
  ].join('\n');
  return { source: 'remote', json, text };
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

export function surprisalText(title: string, rows: readonly SurprisalRow[]): string {
  const summary = surprisalSummary(rows);
  return [
    `${title} · ${rows.length} tokens · mean ${summary.mean_bits === null ? '-' : fixed(summary.mean_bits, 3)} bits per token`,
    table(
      [{ title: 'pos', align: 'right' }, { title: 'id', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: 'bits', align: 'right' }, { title: 'rank', align: 'right' }, { title: 'expected' }],
      rows.map((r) => [
        r.position,
        r.id,
        quoted(r.text),
        r.prob === null ? null : fixed(r.prob, 4),
        r.bits === null ? null : fixed(r.bits, 2),
        r.rank,
        r.expected === null ? null : r.expected.slice(0, 3).map((e) => `${quoted(e.token)} ${fixed(e.prob, 2)}`).join(', '),
      ]),
    ),
  ].join('\n');
}

export async function remoteSurprisalCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const client = remoteClient(values);
  const k = numberOption(values, 'top', { integer: true, min: 1, max: 20 }) ?? 5;
  const prompt = promptOf(values);
  const started = performance.now();
  const completion = await client.complete({ prompt, max_tokens: 0, echo: true, logprobs: k, temperature: 0 });
  const elapsed = performance.now() - started;
  const tokens = completion.tokens;
  if (!tokens || tokens.length === 0) throw new Error(`server ${client.root}: returned no prompt log-probabilities (does it support "echo" with "logprobs"?)`);
  const tokenization = tokens.some((t) => t.id === null) ? await client.tokenize(prompt).catch(() => null) : null;
  const ids = tokenization && tokenization.ids.length === tokens.length ? tokenization.ids : null;
  const rows: SurprisalRow[] = tokens.map((t, position) => {
    const prob = position === 0 || t.logprob === null ? null : Math.exp(t.logprob);
    const top = position === 0 ? [] : topOf(client, t, k, `prompt token ${position}`);
    const at = top.findIndex((a) => a.token === t.token);
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
  const json = { model: client.model, base_url: client.root, top: k, tokens: rows, ...surprisalSummary(rows), rank_scope: `top-${k}`, timing: remoteTiming(elapsed) };
  return { source: 'remote', json, text: `${surprisalText(header(client), rows)}\n(rank shown only within the server's top ${k})` };
}
