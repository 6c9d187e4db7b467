import { DEFAULT_MODEL_ID } from '../common/model-info';
import { generate } from '../engine/generate';
import { entropyBits, softmax, topK } from '../engine/sampling/distribution';
import { SamplingStrategy } from '../engine/sampling/strategies';
import { UsageError, numberOption, stringOption, type ParsedCommand } from './args';
import { createRegistry, encodePrompt, loadModel, loadTokenizer, runtimeOptions, timing } from './model-host';
import { fixed, quoted, table } from './table';

/** What a command prints: the JSON object for `--json`, and the text for people. */
export interface CommandOutput {
  json: unknown;
  text: string;
}

const modelOption = (values: ParsedCommand['values']): string => stringOption(values, 'model') ?? DEFAULT_MODEL_ID;

/** Checks the prompt before anything slow happens. */
function promptOption(values: ParsedCommand['values']): string {
  const prompt = stringOption(values, 'prompt');
  if (prompt === undefined) throw new UsageError('--prompt is required');
  if (prompt === '') throw new UsageError('the prompt is empty');
  return prompt;
}

export async function modelsCommand(): Promise<CommandOutput> {
  const list = await createRegistry().list();
  const models = list.models.map((m) => ({
    id: m.id,
    name: m.name,
    source: m.source,
    path: m.path,
    model_type: m.modelType,
    layers: m.layers,
    heads: m.heads,
    hidden: m.hidden,
    vocab: m.vocab,
    context: m.context,
    parameters: m.parameters,
    bytes: m.bytes,
    sha256: m.sha256,
    onnx: m.files.onnx,
  }));
  const rows = models.map((m) => [m.id, m.source, m.layers, m.heads, m.hidden, m.vocab, m.context, m.parameters, m.bytes, m.path]);
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
        { title: 'path' },
      ],
      rows,
    ),
    ...list.problems.map((p) => `problem: ${p.message}`),
  ].join('\n');
  return { json: { models, problems: list.problems }, text };
}

export async function tokenizeCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const info = await createRegistry().resolve(modelOption(values));
  const tokenizer = await loadTokenizer(info);
  const prompt = stringOption(values, 'prompt');
  const { pieces } = encodePrompt(tokenizer, prompt, Number.MAX_SAFE_INTEGER, info.context);
  const tokens = pieces.map((p) => ({ id: p.id, text: p.text }));
  const text = [
    `${info.id} · ${tokens.length} tokens`,
    table(
      [{ title: 'pos', align: 'right' }, { title: 'id', align: 'right' }, { title: 'text' }],
      pieces.map((p, i) => [i, p.id, quoted(p.text)]),
    ),
  ].join('\n');
  return { json: { model: info.id, count: tokens.length, tokens }, text };
}

export async function predictCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const k = numberOption(values, 'top', { integer: true, min: 1 }) ?? 10;
  const temperature = numberOption(values, 'temperature') ?? 1;
  if (!(temperature > 0)) throw new UsageError(`--temperature: must be greater than 0, got ${temperature}`);
  const prompt = promptOption(values);
  const runtime = runtimeOptions(values);
  const info = await createRegistry().resolve(modelOption(values));
  const model = await loadModel(info, runtime);
  const { pieces, truncated } = encodePrompt(model.engine.tokenizer, prompt, info.context, info.context);
  const result = await model.engine.forward(pieces.map((p) => p.id), false);
  const top = topK(result.lastLogits, Math.min(k, result.vocab), temperature).map((t) => ({
    id: t.id,
    token: model.engine.tokenizer.piece(t.id).text,
    prob: t.prob,
    logit: t.logit,
  }));
  const entropy = entropyBits(softmax(result.lastLogits, temperature));
  const time = timing(model, result.forwardMs);
  const json = {
    model: info.id,
    tokens: pieces.map((p) => ({ id: p.id, text: p.text })),
    truncated,
    temperature,
    top,
    entropy,
    timing: time,
  };
  const text = [
    `${info.id} · ${pieces.length} tokens${truncated ? ` (first ${truncated} dropped)` : ''} · temperature ${temperature} · entropy ${fixed(entropy, 3)} bits`,
    table(
      [{ title: 'rank', align: 'right' }, { title: 'id', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: 'logit', align: 'right' }],
      top.map((t, i) => [i + 1, t.id, quoted(t.token), fixed(t.prob, 4), fixed(t.logit, 3)]),
    ),
    timingLine(time),
  ].join('\n');
  return { json, text };
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
  const runtime = runtimeOptions(values);
  const info = await createRegistry().resolve(modelOption(values));
  const model = await loadModel(info, runtime);
  const { pieces, truncated } = encodePrompt(model.engine.tokenizer, prompt, info.context, info.context);
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
  return { json, text };
}

export async function generateCommand(values: ParsedCommand['values']): Promise<CommandOutput> {
  const name = stringOption(values, 'strategy') ?? 'greedy';
  const temperature = numberOption(values, 'temperature') ?? 1;
  const candidate =
    name === 'greedy'
      ? { strategy: name }
      : name === 'temperature'
        ? { strategy: name, temperature }
        : name === 'top-k'
          ? { strategy: name, temperature, topK: numberOption(values, 'top-k') ?? 10 }
          : name === 'top-p'
            ? { strategy: name, temperature, topP: numberOption(values, 'top-p') ?? 0.9 }
            : null;
  if (candidate === null) throw new UsageError(`--strategy: unknown strategy "${name}"; expected greedy, temperature, top-k or top-p`);
  const parsed = SamplingStrategy.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const option = { temperature: '--temperature', topK: '--top-k', topP: '--top-p' }[String(issue?.path[0] ?? '')] ?? '--strategy';
    throw new UsageError(`${option}: ${issue?.message ?? 'invalid'}`);
  }
  const strategy = parsed.data;
  const seed = numberOption(values, 'seed', { integer: true, min: 0, max: 0xffffffff }) ?? 42;
  const maxTokens = numberOption(values, 'max-tokens', { integer: true, min: 1, max: 4096 }) ?? 12;
  const prompt = promptOption(values);
  const runtime = runtimeOptions(values);
  const info = await createRegistry().resolve(modelOption(values));
  const model = await loadModel(info, runtime);
  const limit = Math.max(1, info.context - maxTokens);
  const { pieces, truncated } = encodePrompt(model.engine.tokenizer, prompt, limit, info.context);
  const started = performance.now();
  const state = await generate(model.engine, pieces.map((p) => p.id), { strategy, seed, maxTokens });
  const forwardMs = performance.now() - started;
  const generated = state.steps.map((s) => s.token).join('');
  const keptPrompt = model.engine.tokenizer.decode(pieces.map((p) => p.id));
  const time = timing(model, forwardMs);
  const json = {
    model: info.id,
    prompt: truncated ? keptPrompt : prompt,
    truncated,
    strategy,
    seed,
    max_tokens: maxTokens,
    text: (truncated ? keptPrompt : prompt) + generated,
    generated,
    steps: state.steps.map((s) => ({ id: s.id, token: s.token, prob: s.prob, rank: s.rank })),
    stop_reason: state.stopReason,
    timing: time,
  };
  const text = [
    json.text,
    '',
    table(
      [{ title: 'step', align: 'right' }, { title: 'id', align: 'right' }, { title: 'token' }, { title: 'prob', align: 'right' }, { title: 'rank', align: 'right' }],
      state.steps.map((s, i) => [i + 1, s.id, quoted(s.token), fixed(s.prob, 4), s.rank]),
    ),
    `stopped: ${state.stopReason ?? 'unknown'} · ${name} · seed ${seed} · ${timingLine(time)}`,
  ].join('\n');
  return { json, text };
}
