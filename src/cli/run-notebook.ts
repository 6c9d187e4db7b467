import { errorMessage } from '../common/error-message';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AttendParams, EmbedParams, PredictParams, SampleParams } from '../common/cells';
import { notebookSizeProblem, parseNotebook, type NotebookDoc } from '../common/notebook-format';
import { runCells } from './notebook-cells';
import { formatHook } from '../common/hook-names';
import { isRemoteNotebook, remoteRun } from './remote-run';
import { generate } from '../engine/generate';
import { presetSettings } from '../common/sampling-strategy';
import { fitPrompt, predictResult } from '../engine/cell-results';
import type { ForwardResult } from '../engine/session';
import type { TokenPiece } from '../engine/tokenizer';
import { UsageError, stringOption, type ParsedCommand } from './args';
import type { CommandOutput } from './command-output';
import { headMatrix } from './commands';
import { createRegistry, loadWithPrompt, timing, type LoadedModel } from './model-host';
import { quoted, table } from './table';
import { cosineSimilarityMatrix } from '../engine/analysis';

/** Row-major [rows][dim] as nested arrays, keeping dims [start, start + count). */
function rows(data: Float32Array | null, n: number, dim: number, start: number, count: number): number[][] | null {
  if (!data) return null;
  const end = Math.min(dim, start + count);
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * dim + start, i * dim + end)));
}

async function cellResult(model: LoadedModel, kind: string, rawParams: unknown, pieces: TokenPiece[], forward: ForwardResult): Promise<unknown> {
  const tokenizer = model.engine.tokenizer;
  const n = pieces.length;
  switch (kind) {
    case 'tokenize':
      return { tokens: pieces.map((p) => ({ id: p.id, text: p.text })), count: n };
    case 'embed': {
      const params = EmbedParams.parse(rawParams);
      const { dim, token, position, sum } = forward.embeddings;
      const basis = sum ?? token;
      return {
        dim,
        dim_start: params.dimStart,
        dim_count: Math.max(0, Math.min(params.dimCount, dim - params.dimStart)),
        token: rows(token, n, dim, params.dimStart, params.dimCount),
        position: rows(position, n, dim, params.dimStart, params.dimCount),
        sum: rows(sum, n, dim, params.dimStart, params.dimCount),
        similarity: basis ? cosineSimilarityMatrix(basis, n, dim) : null,
      };
    }
    case 'attend': {
      const params = AttendParams.parse(rawParams);
      const attention = forward.attention;
      if (!attention) throw new Error(forward.attentionNote ?? 'no attention weights');
      if (params.layer >= attention.layers) throw new Error(`layer ${params.layer}: the model has layers 0 to ${attention.layers - 1}`);
      if (params.head >= attention.heads) throw new Error(`head ${params.head}: the model has heads 0 to ${attention.heads - 1}`);
      const query = params.query < 0 ? n - 1 : params.query;
      if (query >= n) throw new Error(`query ${query}: the prompt has positions 0 to ${n - 1}`);
      const weights = headMatrix(attention.data[params.layer] ?? new Float32Array(), params.head, n);
      return { layer: params.layer, head: params.head, hook: formatHook({ hook: 'attn.hook_pattern', layer: params.layer }), query, weights, row: weights[query] ?? [] };
    }
    case 'predict': {
      const params = PredictParams.parse(rawParams);
      const predicted = predictResult(forward.lastLogits, params.topK, params.temperature);
      return { ...predicted, top: predicted.top.map((t) => ({ ...t, token: tokenizer.piece(t.id).text })) };
    }
    case 'sample': {
      const params = SampleParams.parse(rawParams);
      const { ids } = fitPrompt(pieces.map((p) => p.id), model.info.context, params.maxTokens);
      const settings = presetSettings(params.sampling, params.knobs);
      const state = await generate(model.engine, ids, { strategy: settings, seed: params.seed, maxTokens: params.maxTokens, stop: params.stop === '' ? undefined : params.stop });
      return {
        strategy: params.sampling,
        knobs: params.knobs,
        seed: params.seed,
        generated: state.steps.map((s) => s.token).join(''),
        steps: state.steps.map((s) => ({ id: s.id, token: s.token, prob: s.prob, rank: s.rank, kept: s.kept, entropy: s.entropy })),
        stop_reason: state.stopReason,
      };
    }
    default:
      throw new Error(`unknown cell kind "${kind}"`);
  }
}

/** `ntl run NOTEBOOK.ntl.json [--out RESULTS.json]`: every cell of a saved notebook, run in Node. */
export async function runCommand(parsed: ParsedCommand): Promise<CommandOutput & { failed: number }> {
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new UsageError('run: which notebook? usage: ntl run NOTEBOOK.ntl.json [--out RESULTS.json]');
  if (extra.length > 0) throw new UsageError(`run: unexpected argument "${extra[0] ?? ''}"`);
  let json: unknown;
  const tooLarge = notebookSizeProblem(file, await stat(resolve(file)).then((s) => s.size, () => 0));
  if (tooLarge !== null) throw new Error(tooLarge);
  try {
    json = JSON.parse(await readFile(resolve(file), 'utf8'));
  } catch (cause) {
    throw new Error(`${file}: ${errorMessage(cause)}`);
  }
  const doc = parseNotebook(json, file);
  if (isRemoteNotebook(parsed.values, doc)) return remoteRunOutput(parsed, doc, file);
  for (const flag of ['base-url', 'timeout']) {
    if (parsed.values[flag] !== undefined) throw new UsageError(`--${flag}: only for a notebook on a served model (model "remote:NAME")`);
  }
  const { info, model, pieces, truncated } = await loadWithPrompt(parsed.values, doc.prompt, { fallback: doc.model.id });
  // The results record which file computed them (its hash), as the app's saved results do.
  const sha256 = await createRegistry().onnxSha256(info);
  const started = performance.now();
  const forward = await model.engine.forward(pieces.map((p) => p.id), true);
  const cells = await runCells(doc, (kind, params) => cellResult(model, kind, params, pieces, forward));
  const time = timing(model, performance.now() - started);
  const output = {
    source: model.engine.source,
    notebook: doc.name,
    file,
    model: { id: info.id, sha256, notebook_sha256: doc.model.sha256 },
    prompt: doc.prompt,
    truncated,
    cells,
    timing: time,
  };
  const out = stringOption(parsed.values, 'out');
  if (out !== undefined) await writeFile(resolve(out), `${JSON.stringify(output, null, 2)}\n`, 'utf8');
  const failed = cells.filter((c) => c.error !== undefined);
  const text = [
    `${doc.name} · ${info.id} · ${pieces.length} tokens`,
    table(
      [{ title: 'cell' }, { title: 'kind' }, { title: 'result' }],
      cells.map((c) => [c.id, c.kind, c.error !== undefined ? `error: ${c.error}` : (c.skipped ?? (c.text !== undefined ? quoted(c.text.slice(0, 60)) : summary(c.kind, c.result)))]),
    ),
    ...(out !== undefined ? [`results written to ${out}`] : []),
  ].join('\n');
  return { source: model.engine.source, json: output, text, failed: failed.length };
}

async function remoteRunOutput(parsed: ParsedCommand, doc: NotebookDoc, file: string): Promise<CommandOutput & { failed: number }> {
  const { json, cells } = await remoteRun(parsed.values, doc, file);
  const out = stringOption(parsed.values, 'out');
  if (out !== undefined) await writeFile(resolve(out), `${JSON.stringify(json, null, 2)}\n`, 'utf8');
  const text = [
    `${doc.name} · ${String(json['model'] !== null && typeof json['model'] === 'object' && 'id' in json['model'] ? json['model'].id : '')} (served) · ${cells.length} cells`,
    table(
      [{ title: 'cell' }, { title: 'kind' }, { title: 'result' }],
      cells.map((c) => [c.id, c.kind, c.error !== undefined ? `error: ${c.error}` : (c.skipped ?? (c.text !== undefined ? quoted(c.text.slice(0, 60)) : summary(c.kind, c.result)))]),
    ),
    ...(out !== undefined ? [`results written to ${out}`] : []),
  ].join('\n');
  return { source: 'remote', json, text, failed: cells.filter((c) => c.error !== undefined).length };
}

function summary(kind: string, result: unknown): string {
  if (result === null || typeof result !== 'object') return '';
  if (kind === 'predict' && 'top' in result && Array.isArray(result.top)) {
    const first: unknown = result.top[0];
    if (first !== null && typeof first === 'object' && 'token' in first && 'prob' in first && typeof first.prob === 'number') {
      return `top ${quoted(String(first.token))} ${first.prob.toFixed(4)}`;
    }
  }
  if (kind === 'sample' && 'generated' in result) return quoted(String(result.generated));
  if (kind === 'tokenize' && 'count' in result) return `${String(result.count)} tokens`;
  if (kind === 'attend' && 'layer' in result && 'head' in result) return `layer ${String(result.layer)} head ${String(result.head)}`;
  if (kind === 'embed' && 'dim' in result) return `dim ${String(result.dim)}`;
  return '';
}
