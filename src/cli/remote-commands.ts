import type { SamplerSettings } from '../common/sampler-settings';
import { RemoteClient } from '../node/openai-client';
import type { RemoteTokenization } from '../node/openai-responses';
import { NOT_APPLIED_REASON, SENT } from '../common/remote-sampling';
import { remoteColumn, remotePredict, remoteSurprisal, remoteTokens, surprisalSummary, type SurprisalRow } from '../node/remote-model';
import { UsageError, numberOption, stringOption, type ParsedCommand } from './args';
import type { CommandOutput } from './command-output';
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

export const remoteTiming = (ms: number): RemoteTiming => ({
  backend: 'remote',
  threads: null,
  load_ms: 0,
  forward_ms: Math.round(ms * 10) / 10,
  kv_cache: false,
  kv_cache_note: 'the server keeps its own cache; the lab cannot see it',
});

export function remoteHeader(client: RemoteClient): string {
  return `remote ${client.model} at ${client.root}`;
}

const tokenJson = (t: RemoteTokenization): { id: number | null; text: string | null }[] => t.ids.map((id, i) => ({ id: id < 0 ? null : id, text: t.texts[i] ?? null }));

export async function remoteTokenizeCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const client = remoteClient(values);
  const prompt = promptOf(values);
  const { via, tokenization } = await remoteTokens(client, prompt);
  const tokens = tokenJson(tokenization);
  const text = [
    `${remoteHeader(client)} · ${tokens.length} tokens (via ${via === 'tokenize' ? '/tokenize' : 'echo'})`,
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
  const { top, otherMass, entropy, elapsedMs: forwardMs } = await remotePredict(client, prompt, k);
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
    `${remoteHeader(client)} · entropy over the top ${k} ${fixed(entropy, 3)} bits`,
    table(
      [{ title: 'rank', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: 'logprob', align: 'right' }],
      [...top.map((t, i) => [i + 1, quoted(t.token), fixed(t.prob, 4), fixed(t.logprob, 3)]), ['', 'all other tokens', fixed(otherMass, 4), '']],
    ),
    `remote · request ${time.forward_ms} ms`,
  ].join('\n');
  return { source: 'remote', json, text };
}

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
  const { notApplied } = samplingRequest(decoder.settings, values);
  const column = await remoteColumn(client, prompt, { settings: decoder.settings, seed, maxTokens, stop });
  const { steps, metrics } = column;
  const stopReason = column.stopReason;
  const json = {
    model: client.model,
    base_url: client.root,
    prompt,
    truncated: 0,
    strategy: decoder.name,
    settings: decoder.settings,
    sent: column.sent,
    not_applied: notApplied.map((flag) => ({ flag, reason: NOT_APPLIED_REASON })),
    seed,
    max_tokens: maxTokens,
    stop: stop ?? null,
    text: prompt + column.generated,
    generated: column.generated,
    server_text: column.serverText,
    steps,
    ...(column.stepsNote !== null ? { steps_note: column.stepsNote } : {}),
    stop_reason: stopReason,
    metrics: { tokens: metrics.tokens, mean_log_prob: metrics.meanLogProb, perplexity: metrics.perplexity, tokens_per_second: metrics.tokensPerSecond },
    timing: remoteTiming(column.elapsedMs),
  };
  const text = [
    json.text,
    '',
    table(
      [{ title: 'step', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: 'rank', align: 'right' }],
      steps.map((s, i) => [i + 1, quoted(s.token), s.prob === null ? null : fixed(s.prob, 4), s.rank]),
    ),
    ...notApplied.map((flag) => `not applied by this server: ${flag}`),
    `stopped: ${stopReason ?? 'unknown'} · ${decoder.name} · seed ${seed} · sampled by ${remoteHeader(client)}`,
  ].join('\n');
  return { source: 'remote', json, text };
}

export { surprisalSummary, type SurprisalRow };

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
  const { rows, elapsedMs: elapsed } = await remoteSurprisal(client, prompt, k);
  const json = { model: client.model, base_url: client.root, top: k, tokens: rows, ...surprisalSummary(rows), rank_scope: `top-${k}`, timing: remoteTiming(elapsed) };
  return { source: 'remote', json, text: `${surprisalText(remoteHeader(client), rows)}\n(rank shown only within the server's top ${k})` };
}
