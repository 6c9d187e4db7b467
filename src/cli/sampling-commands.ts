import { DEFAULT_MODEL_ID } from '../common/model-info';
import { readFile } from 'node:fs/promises';
import { CompareSpec, runColumn, type ColumnResult, type ColumnSpec } from '../engine/compare';
import type { ColumnMetrics } from '../engine/sampling/metrics';
import { firstIssue } from '../common/sampler-settings';
import { UsageError, numberOption, stringOption, type ParsedCommand } from './args';
import { decoderFromFlags } from './sampler-options';
import { ggufPath, loadGgufWithPrompt, loadWithPrompt, timing } from './model-host';
import { isGgufPath } from '../node/gguf-model';
import { resolve } from 'node:path';
import { fixed, quoted, table } from './table';
import type { EngineModel } from '../engine/contract';
import { promptOption, timingLine, type CommandOutput } from './command-output';

/** Column metrics as the JSON output spells them. */
export function metricsJson(m: ColumnMetrics): Record<string, number | null> {
  return {
    tokens: m.tokens,
    mean_log_prob: m.meanLogProb,
    perplexity: m.perplexity,
    mean_entropy: m.meanEntropy,
    distinct_1: m.distinct1,
    distinct_2: m.distinct2,
    repetition_rate: m.repetitionRate,
    tokens_per_second: m.tokensPerSecond,
  };
}

export const maybe = (value: number | null, digits: number): string => (value === null ? '-' : fixed(value, digits));

function metricsLine(m: ColumnMetrics): string {
  return [
    `mean log-prob ${maybe(m.meanLogProb, 3)}`,
    `perplexity ${maybe(m.perplexity, 2)}`,
    `distinct-1 ${maybe(m.distinct1, 2)}`,
    `distinct-2 ${maybe(m.distinct2, 2)}`,
    `repetition ${maybe(m.repetitionRate, 2)}`,
    `${maybe(m.tokensPerSecond, 1)} tokens/s`,
  ].join(' · ');
}

const stepsJson = (result: ColumnResult): { id: number; token: string; prob: number; rank: number; kept: number; entropy: number }[] =>
  result.state.steps.map((s) => ({ id: s.id, token: s.token, prob: s.prob, rank: s.rank, kept: s.kept, entropy: s.entropy }));

function stopOption(values: ParsedCommand['values']): string | undefined {
  const stop = stringOption(values, 'stop');
  if (stop === '') throw new UsageError('--stop: the stop string is empty');
  return stop;
}

export async function generateCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const decoder = decoderFromFlags(values);
  const seed = numberOption(values, 'seed', { integer: true, min: 0, max: 0xffffffff }) ?? 42;
  const maxTokens = numberOption(values, 'max-tokens', { integer: true, min: 1, max: 4096 }) ?? 12;
  const stop = stopOption(values);
  const prompt = promptOption(values);
  const gguf = await ggufPath(values);
  const loaded = gguf !== null ? await loadGgufWithPrompt(values, gguf, prompt, { reserve: maxTokens }) : await loadWithPrompt(values, prompt, { reserve: maxTokens });
  const { info, pieces, truncated } = loaded;
  // Either engine: the sampler chain is ours, the next-token distribution the engine's.
  const model: { engine: EngineModel; loadMs: number } = loaded.model;
  const column = decoder.kind === 'beam' ? { seed, beam: decoder.beam } : { seed, settings: decoder.settings };
  const result = await runColumn(model.engine, pieces.map((p) => p.id), column, { maxTokens, stop });
  const { state } = result;
  const generated = state.steps.map((s) => s.token).join('');
  const keptPrompt = model.engine.tokenizer.decode(pieces.map((p) => p.id));
  const time = timing(model, result.elapsedMs);
  const json = {
    ...(gguf !== null ? { source: 'gguf' } : {}),
    model: info.id,
    prompt: truncated ? keptPrompt : prompt,
    truncated,
    strategy: decoder.name,
    settings: decoder.kind === 'beam' ? decoder.beam : decoder.settings,
    seed,
    max_tokens: maxTokens,
    stop: stop ?? null,
    text: (truncated ? keptPrompt : prompt) + generated,
    generated,
    steps: stepsJson(result),
    stop_reason: state.stopReason,
    metrics: metricsJson(result.metrics),
    timing: time,
  };
  const text = [
    json.text,
    '',
    table(
      [
        { title: 'step', align: 'right' },
        { title: 'id', align: 'right' },
        { title: 'token' },
        { title: 'prob', align: 'right' },
        { title: 'rank', align: 'right' },
        { title: 'kept', align: 'right' },
        { title: 'entropy', align: 'right' },
      ],
      state.steps.map((s, i) => [i + 1, s.id, quoted(s.token), fixed(s.prob, 4), s.rank, s.kept, fixed(s.entropy, 3)]),
    ),
    metricsLine(result.metrics),
    `stopped: ${state.stopReason ?? 'unknown'} · ${decoder.name} · seed ${seed} · ${timingLine(time)}`,
  ].join('\n');
  if (gguf !== null) await model.engine.release();
  return { source: model.engine.source, json, text };
}

/** The `--spec` file of `ntl compare`, checked. */
export async function readCompareSpec(values: ParsedCommand['values']): Promise<CompareSpec> {
  const file = stringOption(values, 'spec');
  if (file === undefined) throw new UsageError('--spec is required');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new UsageError(`--spec ${file}: ${reason}`);
  }
  const parsed = CompareSpec.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = (issue?.path ?? []).map(String).join('.');
    throw new UsageError(`--spec ${file}: ${where === '' ? '' : `${where}: `}${firstIssue(parsed.error).message}`);
  }
  return parsed.data;
}

/** `ntl compare --spec FILE.json`: each column of the spec on the same prompt and model. */
export async function compareCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const spec = await readCompareSpec(values);
  const gguf = (await ggufPath(values)) ?? (spec.model !== undefined && isGgufPath(spec.model) ? resolve(spec.model) : null);
  const loaded =
    gguf !== null
      ? await loadGgufWithPrompt(values, gguf, spec.prompt, { reserve: spec.maxTokens })
      : await loadWithPrompt(values, spec.prompt, { reserve: spec.maxTokens, fallback: spec.model ?? DEFAULT_MODEL_ID });
  const { info, pieces, truncated } = loaded;
  // On a GGUF model the columns are sequences of one llama.cpp context, each continuing the prompt's cache.
  const model: { engine: EngineModel; loadMs: number } = loaded.model;
  const ids = pieces.map((p) => p.id);
  const prompt = truncated ? model.engine.tokenizer.decode(ids) : spec.prompt;
  const results: { column: ColumnSpec; result: ColumnResult }[] = [];
  for (const column of spec.columns) results.push({ column, result: await runColumn(model.engine, ids, column, { maxTokens: spec.maxTokens, stop: spec.stop }) });
  const columns = results.map(({ column, result }) => {
    const generated = result.state.steps.map((s) => s.token).join('');
    return {
      name: column.name,
      seed: column.seed,
      decoder: column.beam ? { beam: column.beam } : column.strategy ? { strategy: column.strategy } : { settings: column.settings ?? null },
      text: prompt + generated,
      generated,
      steps: stepsJson(result),
      stop_reason: result.state.stopReason,
      metrics: metricsJson(result.metrics),
    };
  });
  if (gguf !== null) await model.engine.release();
  const json = {
    ...(gguf !== null ? { source: 'gguf' } : {}),
    model: info.id,
    prompt,
    truncated,
    max_tokens: spec.maxTokens,
    stop: spec.stop ?? null,
    columns,
    timing: timing(model, results.reduce((a, r) => a + r.result.elapsedMs, 0)),
  };
  const text = [
    `${info.id} · "${prompt}" · ${spec.maxTokens} tokens at most`,
    '',
    ...columns.flatMap((c) => [`[${c.name}] seed ${c.seed} · stopped: ${c.stop_reason ?? 'unknown'}`, `  ${quoted(c.text)}`]),
    '',
    table(
      [
        { title: 'column' },
        { title: 'tokens', align: 'right' },
        { title: 'mean log-prob', align: 'right' },
        { title: 'perplexity', align: 'right' },
        { title: 'entropy', align: 'right' },
        { title: 'distinct-1', align: 'right' },
        { title: 'distinct-2', align: 'right' },
        { title: 'repetition', align: 'right' },
        { title: 'tokens/s', align: 'right' },
      ],
      results.map(({ column, result: { metrics: m } }) => [
        column.name,
        m.tokens,
        maybe(m.meanLogProb, 3),
        maybe(m.perplexity, 2),
        maybe(m.meanEntropy, 3),
        maybe(m.distinct1, 2),
        maybe(m.distinct2, 2),
        maybe(m.repetitionRate, 2),
        maybe(m.tokensPerSecond, 1),
      ]),
    ),
    timingLine(json.timing),
  ].join('\n');
  return { source: model.engine.source, json, text };
}
