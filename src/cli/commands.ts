import { errorMessage } from '../common/error-message';
import { depthLabel, predictResult } from '../engine/cell-results';
import { formatHook, residualHook } from '../common/hook-names';
import { entropyBits, softmax, topK } from '../engine/sampling/distribution';
import { parseHeadRef } from '../engine/intervention';
import { contextSimilarity, sharedTokens } from '../engine/analysis';
import { UsageError, listOption, numberOption, stringOption, type ParsedCommand } from './args';
import { encodePrompt, ggufPath, loadGgufWithPrompt, loadTokenizer, loadWithPrompt, resolveModel, runtimeOptions, loadModel, timing, type Timing } from './model-host';
import { GGUF_INSIDE_NOTE, GgufModel } from '../node/gguf-model';
import { fixed, quoted, table } from './table';
import { promptSurprisal } from '../engine/surprisal';
import { surprisalSummary, surprisalText, type SurprisalRow } from './remote-commands';
import type { TokenPiece } from '../engine/tokenizer';
import { promptOption, timingLine, type CommandOutput } from './command-output';

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
      throw new UsageError(`--ablate-head: ${errorMessage(cause)}`);
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
    throw new UsageError(`--ablate-head: ${errorMessage(cause)}`);
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
