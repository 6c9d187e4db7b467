import { DEFAULT_MODEL_ID, type ModelInfo } from '../common/model-info';
import type { ModelSource } from '../engine/contract';
import { ModelImporter } from '../node/model-import';
import { readFile } from 'node:fs/promises';
import { depthLabel, predictResult } from '../engine/cell-results';
import { formatHook, residualHook } from '../common/hook-names';
import { CompareSpec, runColumn, type ColumnResult, type ColumnSpec } from '../engine/compare';
import { entropyBits, softmax, topK } from '../engine/sampling/distribution';
import { parseHeadRef } from '../engine/intervention';
import { contextSimilarity, sharedTokens } from '../engine/analysis';
import type { ColumnMetrics } from '../engine/sampling/metrics';
import { firstIssue } from '../common/sampler-settings';
import { UsageError, listOption, numberOption, stringOption, type ParsedCommand } from './args';
import { decoderFromFlags } from './sampler-options';
import { createRegistry, userModelsDir, encodePrompt, ggufPath, loadGgufWithPrompt, loadTokenizer, loadWithPrompt, resolveModel, runtimeOptions, loadModel, timing, type Timing } from './model-host';
import { GGUF_INSIDE_NOTE, GgufModel, isGgufPath } from '../node/gguf-model';
import { GgufLibrary } from '../node/gguf-library';
import { resolve } from 'node:path';
import { fixed, quoted, table } from './table';
import { promptSurprisal } from '../engine/surprisal';
import { surprisalSummary, surprisalText, type SurprisalRow } from './remote-commands';
import type { TokenPiece } from '../engine/tokenizer';
import type { EngineModel } from '../engine/contract';

/** What a command prints: the JSON object for `--json`, and the text for people. */
export interface CommandOutput {
  /** Which engine computed the numbers (`--json` carries it as `source`): the model that ran says. */
  source: ModelSource;
  json: unknown;
  text: string;
}


/** Checks the prompt before anything slow happens. */
function promptOption(values: ParsedCommand['values']): string {
  const prompt = stringOption(values, 'prompt');
  if (prompt === undefined) throw new UsageError('--prompt is required');
  if (prompt === '') throw new UsageError('the prompt is empty');
  return prompt;
}

/** A model as `ntl models` and `ntl import` print it. */
function modelJson(m: ModelInfo): Record<string, unknown> {
  return {
    id: m.id,
    name: m.name,
    source: m.source,
    format: m.format,
    path: m.path,
    model_type: m.modelType,
    layers: m.layers,
    heads: m.heads,
    kv_heads: m.kvHeads,
    hidden: m.hidden,
    vocab: m.vocab,
    context: m.context,
    parameters: m.parameters,
    bytes: m.bytes,
    precision: m.precision,
    opset: m.opset,
    sha256: m.sha256,
    variant: m.variant,
    variants: m.variants.map((v) => v.name),
    onnx: m.files.onnx,
    onnx_with_past: m.files.onnxWithPast,
    onnx_data: m.files.onnxData,
    inputs: m.graphInputs,
    views: Object.fromEntries(m.views.map((v) => [v.view, v.ok ? true : v.reason])),
    ...(m.gguf
      ? {
          gguf: {
            file: m.gguf.file,
            origin: m.gguf.origin,
            version: m.gguf.version,
            file_type: m.gguf.fileType,
            tensor_types: m.gguf.tensorTypes,
            tensors: m.gguf.tensors,
            chat_template: m.gguf.chatTemplate,
            embeddings: m.gguf.embeddings ?? true,
          },
        }
      : {}),
  };
}

export async function modelsCommand(): Promise<CommandOutput> {
  const registry = createRegistry();
  const list = await registry.list();
  const found = await new GgufLibrary(userModelsDir(), registry).found();
  const offered = found.files.filter((f) => f.registeredAs === null);
  const models = list.models.map(modelJson);
  const rows = list.models.map((m) => [m.id, m.format === 'gguf' ? `${m.source} (gguf)` : m.source, m.layers, m.kvHeads === m.heads ? m.heads : `${m.heads}/${m.kvHeads}`, m.hidden, m.vocab, m.context, m.parameters, m.bytes, m.precision, m.path]);
  const text = [
    models.length === 0 ? 'no models found' : table(
      [
        { title: 'id' },
        { title: 'source' },
        { title: 'layers', align: 'right' },
        { title: 'heads', align: 'right' },
        { title: 'hidden', align: 'right' },
        { title: 'vocab', align: 'right' },
        { title: 'context', align: 'right' },
        { title: 'parameters', align: 'right' },
        { title: 'bytes', align: 'right' },
        { title: 'precision' },
        { title: 'path' },
      ],
      rows,
    ),
    ...list.problems.map((p) => `problem: ${p.message}`),
    ...(offered.length > 0 ? ['', 'GGUF files found in LM Studio\'s and Ollama\'s folders (add one with ntl import PATH):'] : []),
    ...offered.map((f) => `  ${f.origin} ${f.name}: ${f.problem ?? `${f.architecture ?? '?'}, ${f.fileType ?? '?'}, ${f.parameters ?? '?'} parameters`}, ${f.bytes} bytes, ${f.path}`),
  ].join('\n');
  return { source: 'onnx', json: { models, problems: list.problems, gguf_found: found.files, gguf_searched: found.searched }, text };
}

/** `ntl import FOLDER`: validates a model folder and copies it into the user's models folder. */
export async function importCommand(parsed: ParsedCommand): Promise<CommandOutput> {
  const [folder, ...extra] = parsed.positionals;
  if (folder === undefined) throw new UsageError('import: name the model folder to import, e.g. ntl import ./my-gpt2');
  if (extra.length > 0) throw new UsageError(`import: one folder at a time (got ${parsed.positionals.length})`);
  const registry = createRegistry();
  if (isGgufPath(folder)) {
    // Registered by path and hash where it is: nothing is copied.
    const info = await new GgufLibrary(userModelsDir(), registry).addFile(folder);
    const types = Object.entries(info.gguf?.tensorTypes ?? {}).map(([t, n]) => `${n} ${t}`).join(', ');
    const text = [
      `added ${info.id}: ${info.path} (registered by path and SHA-256 ${info.sha256.slice(0, 12)}…, not copied)`,
      `${info.modelType}, ${info.layers} layers, ${info.heads} heads (${info.kvHeads} key/value), hidden ${info.hidden}, vocabulary ${info.vocab}, context ${info.context}, ${info.precision} (tensors: ${types}), ${info.bytes} bytes`,
    ].join('\n');
    return { source: 'gguf', json: modelJson(info), text };
  }
  const info = await new ModelImporter(userModelsDir(), registry).importFolder(folder);
  const unsupported = info.views.filter((v) => !v.ok).map((v) => `  ${v.view}: ${v.reason ?? ''}`);
  const text = [
    `imported ${info.id} into ${info.path}`,
    `${info.modelType}, ${info.layers} layers, ${info.heads} heads (${info.kvHeads} key/value), hidden ${info.hidden}, vocabulary ${info.vocab}, context ${info.context}, ${info.precision}, ${info.bytes} bytes`,
    ...(unsupported.length > 0 ? ['views that this model cannot show:', ...unsupported] : ['every view is available']),
  ].join('\n');
  return { source: 'onnx', json: modelJson(info), text };
}

export async function tokenizeCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const gguf = await ggufPath(values);
  const prompt = stringOption(values, 'prompt');
  if (gguf !== null) {
    // llama.cpp's own tokenizer: the vocabulary and merges inside the file.
    const engine = await GgufModel.load(gguf, { threads: 1 });
    try {
      const { pieces } = encodePrompt(engine.tokenizer, prompt, Number.MAX_SAFE_INTEGER);
      return tokenizeOutput({ id: engine.id }, pieces, 'gguf');
    } finally {
      await engine.release();
    }
  }
  const info = await resolveModel(values);
  const tokenizer = await loadTokenizer(info);
  const { pieces } = encodePrompt(tokenizer, prompt, Number.MAX_SAFE_INTEGER);
  return tokenizeOutput(info, pieces);
}

function tokenizeOutput(info: { id: string }, pieces: readonly TokenPiece[], source?: 'gguf'): CommandOutput {
  const tokens = pieces.map((p) => ({ id: p.id, text: p.text }));
  const text = [
    `${info.id} · ${tokens.length} tokens`,
    table(
      [{ title: 'pos', align: 'right' }, { title: 'id', align: 'right' }, { title: 'text' }],
      pieces.map((p, i) => [i, p.id, quoted(p.text)]),
    ),
  ].join('\n');
  return { source: source ?? 'onnx', json: { model: info.id, count: tokens.length, tokens }, text };
}

interface PredictInput {
  info: { id: string };
  tokenOf: (id: number) => string;
  pieces: readonly TokenPiece[];
  truncated: number;
  temperature: number;
  k: number;
  logits: Float32Array;
  time: Timing;
  source?: 'gguf';
}

type TopEntry = { id: number; token: string; prob: number; logit: number };

/** Predict's output from one next-token logit vector (a GGUF model's are log p: the same softmax). */
function predictOutput(input: PredictInput): CommandOutput & { json: Record<string, unknown>; top: TopEntry[]; header: string } {
  const { info, pieces, truncated, temperature } = input;
  const predicted = predictResult(input.logits, input.k, temperature);
  const top = predicted.top.map((t) => ({ id: t.id, token: input.tokenOf(t.id), prob: t.prob, logit: t.logit }));
  const entropy = predicted.entropy;
  const header = `${info.id} · ${pieces.length} tokens${truncated ? ` (first ${truncated} dropped)` : ''} · temperature ${temperature}`;
  const json = {
    model: info.id,
    tokens: pieces.map((p) => ({ id: p.id, text: p.text })),
    truncated,
    temperature,
    top,
    entropy,
    timing: input.time,
  };
  const text = [
    `${header} · entropy ${fixed(entropy, 3)} bits`,
    table(
      [{ title: 'rank', align: 'right' }, { title: 'id', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: input.source === 'gguf' ? 'log p' : 'logit', align: 'right' }],
      top.map((t, i) => [i + 1, t.id, quoted(t.token), fixed(t.prob, 4), fixed(t.logit, 3)]),
    ),
    timingLine(input.time),
  ].join('\n');
  return { source: input.source ?? 'onnx', json, text, top, header };
}


export async function predictCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const k = numberOption(values, 'top', { integer: true, min: 1 }) ?? 10;
  const temperature = numberOption(values, 'temperature') ?? 1;
  if (!(temperature > 0)) throw new UsageError(`--temperature: must be greater than 0, got ${temperature}`);
  const ablate = listOption(values, 'ablate-head').map((text) => {
    try {
      return parseHeadRef(text);
    } catch (cause) {
      throw new UsageError(`--ablate-head: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  });
  const gguf = await ggufPath(values);
  if (gguf !== null) {
    if (ablate.length > 0) throw new UsageError(`--ablate-head: ${GGUF_INSIDE_NOTE}`);
    const { info, model, pieces, truncated } = await loadGgufWithPrompt(values, gguf, promptOption(values));
    try {
      const started = performance.now();
      const logits = await model.engine.nextLogits(pieces.map((p) => p.id));
      const time = timing(model, performance.now() - started);
      return predictOutput({ info, tokenOf: (id) => model.engine.tokenizer.piece(id).text, pieces, truncated, temperature, k, logits, time, source: 'gguf' });
    } finally {
      await model.engine.release();
    }
  }
  const { info, model, pieces, truncated } = await loadWithPrompt(values, promptOption(values));
  const ids = pieces.map((p) => p.id);
  const result = await model.engine.forward(ids, false);
  const tokenOf = (id: number): string => model.engine.tokenizer.piece(id).text;
  const time = timing(model, result.forwardMs);
  const plain = predictOutput({ info, tokenOf, pieces, truncated, temperature, k, logits: result.lastLogits, time });
  if (ablate.length === 0) return plain;
  const { json, top, header } = plain;
  const edited = await model.engine.forwardEdited(ids, { ablateHeads: ablate }, false).catch((cause: unknown) => {
    throw new UsageError(`--ablate-head: ${cause instanceof Error ? cause.message : String(cause)}`);
  });
  const before = softmax(result.lastLogits, temperature);
  const after = softmax(edited.lastLogits, temperature);
  const afterTop = topK(edited.lastLogits, Math.min(k, edited.vocab), temperature);
  // The union of both top-k lists, ranked by the probability after the edit.
  const shown = [...new Set([...afterTop.map((t) => t.id), ...top.map((t) => t.id)])]
    .map((id) => ({ id, token: tokenOf(id), before: before[id] ?? 0, after: after[id] ?? 0 }))
    .sort((a, b) => b.after - a.after);
  const first = top[0];
  const change = first ? { id: first.id, token: first.token, before: first.prob, after: after[first.id] ?? 0, delta: (after[first.id] ?? 0) - first.prob } : null;
  const text = [
    `${header} · heads switched off: ${ablate.map((h) => `${h.layer}:${h.head}`).join(', ')}`,
    table(
      [{ title: 'id', align: 'right' }, { title: 'token' }, { title: 'before', align: 'right' }, { title: 'after', align: 'right' }, { title: 'change', align: 'right' }],
      shown.map((t) => [t.id, quoted(t.token), fixed(t.before, 4), fixed(t.after, 4), `${t.after >= t.before ? '+' : ''}${fixed(t.after - t.before, 4)}`]),
    ),
    change ? `top token before, ${quoted(change.token)}: ${fixed(change.before, 4)} → ${fixed(change.after, 4)} (${change.delta >= 0 ? '+' : ''}${fixed(change.delta, 4)})` : '',
    timingLine(time),
  ].join('\n');
  return {
    source: model.engine.source,
    json: {
      ...json,
      ablated: ablate,
      after: { top: afterTop.map((t) => ({ id: t.id, token: tokenOf(t.id), prob: t.prob, logit: t.logit })), entropy: entropyBits(after) },
      top_token_change: change,
    },
    text,
  };
}

function timingLine(t: { backend: string; threads: number; load_ms: number; forward_ms: number }): string {
  return `${t.backend}, ${t.threads} thread${t.threads === 1 ? '' : 's'} · load ${t.load_ms} ms · forward ${t.forward_ms} ms`;
}

/** Rows of a row-major [query][key] block of one head as nested arrays. */
export function headMatrix(layer: Float32Array, head: number, n: number): number[][] {
  const offset = head * n * n;
  return Array.from({ length: n }, (_, q) => Array.from(layer.subarray(offset + q * n, offset + (q + 1) * n)));
}

export async function attentionCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const layerWanted = numberOption(values, 'layer', { integer: true, min: 0 });
  const headWanted = numberOption(values, 'head', { integer: true, min: 0 });
  const prompt = promptOption(values);
  if ((await ggufPath(values)) !== null) throw new UsageError(`attention: ${GGUF_INSIDE_NOTE}`);
  const { info, model, pieces, truncated } = await loadWithPrompt(values, prompt);
  const result = await model.engine.forward(pieces.map((p) => p.id), true);
  const attention = result.attention;
  if (!attention) throw new Error(`${info.id}: ${result.attentionNote ?? 'no attention weights'}`);
  if (layerWanted !== undefined && layerWanted >= attention.layers) {
    throw new UsageError(`--layer ${layerWanted}: the model has layers 0 to ${attention.layers - 1}`);
  }
  if (headWanted !== undefined && headWanted >= attention.heads) {
    throw new UsageError(`--head ${headWanted}: the model has heads 0 to ${attention.heads - 1}`);
  }
  const n = pieces.length;
  const layerIds = layerWanted !== undefined ? [layerWanted] : Array.from({ length: attention.layers }, (_, i) => i);
  const headIds = headWanted !== undefined ? [headWanted] : Array.from({ length: attention.heads }, (_, i) => i);
  const weights = layerIds.map((l) => headIds.map((h) => headMatrix(attention.data[l] ?? new Float32Array(), h, n)));
  const time = timing(model, result.forwardMs);
  const json = {
    model: info.id,
    tokens: pieces.map((p) => ({ id: p.id, text: p.text })),
    truncated,
    layers: attention.layers,
    heads: attention.heads,
    layer: layerWanted ?? null,
    head: headWanted ?? null,
    // The hook point of each layer in `attention`, in the same order (src/common/hook-names.ts).
    hooks: layerIds.map((layer) => formatHook({ hook: 'attn.hook_pattern', layer })),
    attention: weights,
    timing: time,
  };
  const labels = pieces.map((p) => p.display);
  const blocks: string[] = [];
  layerIds.forEach((l, li) =>
    headIds.forEach((h, hi) => {
      const matrix = weights[li]?.[hi] ?? [];
      blocks.push(
        `layer ${l} head ${h}`,
        table(
          [{ title: 'query \\ key' }, ...labels.map((label) => ({ title: label, align: 'right' as const }))],
          matrix.map((row, q) => [labels[q] ?? '', ...row.map((w, key) => (key <= q ? fixed(w, 2) : ''))]),
        ),
      );
    }),
  );
  const text = [`${info.id} · ${n} tokens · ${attention.layers} layers × ${attention.heads} heads`, ...blocks, timingLine(time)].join('\n');
  return { source: model.engine.source, json, text };
}

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

/** `ntl context --a A --b B [--word TEXT]`: one word in two prompts, its hidden vector compared depth by depth. */
export async function contextCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const texts = [stringOption(values, 'a'), stringOption(values, 'b')];
  if (texts.some((t) => t === undefined || t.trim() === '')) throw new UsageError('context: give both prompts, --a TEXT and --b TEXT');
  const wordWanted = stringOption(values, 'word');
  if ((await ggufPath(values)) !== null) throw new UsageError(`context: ${GGUF_INSIDE_NOTE}`);
  const runtime = runtimeOptions(values);
  const info = await resolveModel(values);
  const model = await loadModel(info, runtime);
  const sides = [];
  for (const text of texts) {
    const { pieces } = encodePrompt(model.engine.tokenizer, text ?? '', info.context);
    sides.push({ pieces, result: await model.engine.forward(pieces.map((p) => p.id), true) });
  }
  const [a, b] = sides;
  if (!a || !b) throw new Error('context: two prompts expected');
  const shared = sharedTokens(a.pieces.map((p) => p.id), b.pieces.map((p) => p.id));
  if (shared.length === 0) throw new UsageError('context: the two prompts share no token');
  const chosen = wordWanted === undefined ? shared.at(-1) : shared.find((s) => model.engine.tokenizer.piece(s.id).text === wordWanted);
  if (!chosen) throw new UsageError(`--word ${quoted(wordWanted ?? '')}: not a token of both prompts; shared: ${shared.map((s) => quoted(model.engine.tokenizer.piece(s.id).text)).join(', ')}`);
  if (!a.result.residual || !b.result.residual) throw new Error(`${info.id}: the residual stream of this model could not be read`);
  const similarity = contextSimilarity(a.result.residual, b.result.residual, chosen.posA, chosen.posB, model.engine.config.hidden);
  const top = (logits: Float32Array): { id: number; token: string; prob: number }[] =>
    topK(logits, 5).map((t) => ({ id: t.id, token: model.engine.tokenizer.piece(t.id).text, prob: t.prob }));
  const word = model.engine.tokenizer.piece(chosen.id).text;
  const json = {
    model: info.id,
    token: { id: chosen.id, text: word, position_a: chosen.posA, position_b: chosen.posB },
    shared: shared.map((s) => ({ id: s.id, text: model.engine.tokenizer.piece(s.id).text })),
    similarity,
    // The hook point of each depth in `similarity`: blocks.0.hook_resid_pre (the embeddings), then each block's hook_resid_post.
    hooks: similarity.map((_, d) => formatHook(residualHook(d, similarity.length))),
    top_a: top(a.result.lastLogits),
    top_b: top(b.result.lastLogits),
  };
  const depth = (d: number): string => depthLabel(d, similarity.length);
  const text = [
    `${info.id} · ${quoted(word)} at position ${chosen.posA} of A and ${chosen.posB} of B`,
    table([{ title: 'depth' }, { title: 'cosine', align: 'right' }], similarity.map((v, d) => [depth(d), fixed(v, 4)])),
    `A predicts ${json.top_a.map((t) => `${quoted(t.token)} ${fixed(t.prob, 3)}`).join(', ')}`,
    `B predicts ${json.top_b.map((t) => `${quoted(t.token)} ${fixed(t.prob, 3)}`).join(', ')}`,
  ].join('\n');
  return { source: model.engine.source, json, text };
}

/** `ntl surprisal --prompt P [--top K]`: every prompt token's probability and rank under the model, and the K the model expected there, from one forward pass. */
export async function surprisalCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const k = numberOption(values, 'top', { integer: true, min: 1, max: 100 }) ?? 5;
  const { info, model, pieces, truncated } = await loadWithPrompt(values, promptOption(values));
  const ids = pieces.map((p) => p.id);
  const { logits, vocab, forwardMs } = await model.engine.positionLogits(ids);
  const tokenOf = (id: number): string => model.engine.tokenizer.piece(id).text;
  const rows: SurprisalRow[] = promptSurprisal(ids, logits, vocab).map((t) => ({
    ...t,
    text: pieces[t.position]?.text ?? '',
    expected: t.position === 0 ? null : topK(logits.subarray((t.position - 1) * vocab, t.position * vocab), k).map((e) => ({ id: e.id, token: tokenOf(e.id), prob: e.prob })),
  }));
  const time = timing(model, forwardMs);
  const json = { model: info.id, truncated, top: k, tokens: rows, ...surprisalSummary(rows), rank_scope: 'vocabulary', timing: time };
  return { source: model.engine.source, json, text: `${surprisalText(info.id, rows)}\n${timingLine(time)}` };
}
