/**
 * The engine benchmark of issue 7, one model on one backend at one thread count per process (so each
 * has its own peak RSS): session creation, forward latency plain and instrumented, generation on the
 * key/value cache and by recomputation, a 4-column batched step, peak memory. Run by bench.ts as
 * `node bin/bench.mjs --child <model folder> <backend> <threads>`; prints one JSON line.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { basename, join } from 'node:path';
import { generationStep, type GenerationState } from '../../src/engine/generate';
import type * as Ort from 'onnxruntime-web';
import { OnnxModel, type BackendName, type ModelFiles } from '../../src/engine/session';
import type { ByteSource } from '../../src/engine/byte-source';
import { graphWithoutWeights } from '../../src/node/file-source';
import { loadOrt } from '../../src/node/ort-runtime';

export interface Measure {
  metric: string;
  /** Δp and Δlogit: differences from the float32 model (reduced-precision variants). */
  unit: 'ms' | 'tokens/s' | 'MB' | '%' | '×' | 'Δp' | 'Δlogit';
  value: number;
  /** Whether a larger value is better (throughput): the ratio to native is then native / this. */
  higherIsBetter?: boolean;
  note?: string;
}

export interface ChildPlan {
  runs: number;
  /** Sessions created to time session creation (each released before the next). */
  loads: number;
  lengths: number[];
  /** Generation: prompt tokens and new tokens (the context ends at prompt + new). */
  prompt: number;
  newTokens: number;
  /** Runs of the newTokens generation on the cache, and of the cache-vs-recomputing window (medians). */
  cacheRuns: number;
  generationRuns: number;
  /** New tokens timed when recomputing; fewer than newTokens on big models, at the same end of context. */
  recomputeTokens: number;
  batchLengths: number[];
  /** The variant's files: onnx/model_<variant>.onnx and onnx/decoder_with_past_<variant>.onnx (none: float32's). */
  variant?: string;
  /** The last position's logits for `prompt`, written as float32 to `out`, to compare variants with float32. */
  probe?: { prompt: string; out: string };
  /** Only load and write the probe (a float32 reference wanted by a variant), nothing timed. */
  probeOnly?: boolean;
  /**
   * A variant's generation against float32's in this same process: both loaded, `tokens` cached
   * steps of each in turns (after a warm-up of each, `runs` times), so that load from elsewhere on
   * the machine falls on both alike. Timed after the peak-memory row, which stays the variant's own.
   */
  pairWithFloat32?: { tokens: number };
}

/** The middle value (the upper of the two middle ones for an even count); NaN for none. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/**
 * A model folder's files as `ntl` reads them: the graphs without their weights (onnxruntime-node
 * reads those from the files; for onnxruntime-web the engine reads each file whole while its session
 * is created), with `reread`, so the engine keeps no bytes after loading.
 */
export function readFiles(dir: string, variant?: string): ModelFiles {
  const json = (f: string): unknown => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const suffix = variant ? `_${variant}` : '';
  const onnxFile = `onnx/model${suffix}.onnx`;
  const withPastFile = `onnx/decoder_with_past${suffix}.onnx`;
  const whole = (file: string): Uint8Array => new Uint8Array(readFileSync(join(dir, file)));
  const graph = (file: string): { bytes: Uint8Array; source?: ByteSource } => {
    const lean = graphWithoutWeights(join(dir, file), file);
    return lean ? { bytes: lean.graph, source: lean.source } : { bytes: whole(file) };
  };
  const main = graph(onnxFile);
  const withPast = existsSync(join(dir, withPastFile)) ? graph(withPastFile) : null;
  return {
    id: basename(dir),
    config: json('config.json'),
    tokenizer: json('tokenizer.json'),
    tokenizerConfig: existsSync(join(dir, 'tokenizer_config.json')) ? json('tokenizer_config.json') : {},
    onnx: main.bytes,
    onnxFile,
    onnxWithPast: withPast?.bytes ?? null,
    onnxWithPastFile: withPastFile,
    folder: dir,
    reread: () => whole(onnxFile),
    ...(withPast ? { rereadWithPast: () => whole(withPastFile) } : {}),
    ...(main.source ? { onnxSource: main.source } : {}),
    ...(withPast?.source ? { onnxWithPastSource: withPast.source } : {}),
  };
}

/** Deterministic token ids below the tokenizer's vocabulary. */
const tokens = (n: number, vocab: number, salt = 0): number[] => Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729 + 13) % vocab);

/**
 * Medians of timings taken in turns (a, b, c, a, b, c, …) after one warm-up of each, so that load
 * from elsewhere on the machine falls on all alike: their ratios are what the targets compare.
 */
export async function timeTurns(runs: number, loops: readonly (() => Promise<number>)[]): Promise<number[]> {
  for (const loop of loops) await loop();
  const times = loops.map((): number[] => []);
  for (let i = 0; i < runs; i++) for (const [k, loop] of loops.entries()) times[k]?.push(await loop());
  return times.map(median);
}

/** `timeTurns` of two. */
export async function timePair(runs: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[number, number]> {
  const [ma, mb] = await timeTurns(runs, [a, b]);
  return [ma ?? NaN, mb ?? NaN];
}

/**
 * Tokens per second for `count` greedy steps of generate.ts after `prompt`, the prompt's own pass
 * (prefill) not timed: on the cache (nextLogits) or recomputing the whole sequence every step.
 */
async function generationRate(model: OnnxModel, prompt: number[], count: number, cache: boolean): Promise<number> {
  const greedy = { strategy: 'greedy' } as const;
  const logitsFor = async (ids: number[]): Promise<Float32Array | undefined> => (cache ? undefined : (await model.forward(ids, false)).lastLogits);
  let state: GenerationState = { ids: [...prompt], steps: [], rngState: 1, stopReason: null };
  state = await generationStep(model, state, greedy, { logits: await logitsFor(state.ids) });
  const started = performance.now();
  for (let k = 0; k < count; k++) state = await generationStep(model, { ...state, stopReason: null }, greedy, { logits: await logitsFor(state.ids) });
  return count / ((performance.now() - started) / 1000);
}

export async function runChild(dir: string, backend: BackendName, threads: number, plan: ChildPlan): Promise<Measure[]> {
  const ort = await loadOrt(backend);
  const files = readFiles(dir, plan.variant);
  const out: Measure[] = [];
  const loads: number[] = [];
  let model: OnnxModel | null = null;
  for (let i = 0; i < Math.max(1, plan.loads); i++) {
    await model?.release();
    const t = performance.now();
    model = await OnnxModel.load(ort, files, { backend, threads });
    loads.push(performance.now() - t);
  }
  if (!model) throw new Error('no model');
  if (plan.probe) {
    const { lastLogits } = await model.forward(model.tokenizer.encode(plan.probe.prompt), false);
    mkdirSync(dirname(plan.probe.out), { recursive: true });
    writeFileSync(plan.probe.out, new Uint8Array(Float32Array.from(lastLogits).buffer));
  }
  if (plan.probeOnly) {
    await model.release();
    return out;
  }
  const sessionsNote = model.cacheNote ?? model.sessionNote;
  out.push({ metric: 'session creation (the model load)', unit: 'ms', value: median(loads), ...(sessionsNote ? { note: sessionsNote } : {}) });
  const vocab = model.tokenizer.info.vocabSize;
  const context = model.config.context;
  for (const n of plan.lengths.filter((n) => n <= context)) {
    const ids = tokens(n, vocab);
    const [plain, instrumented] = await timePair(
      plan.runs,
      async () => (await model.forward(ids, false)).forwardMs,
      async () => (await model.forward(ids, true)).forwardMs,
    );
    out.push({ metric: `forward ${n} tokens, logits only`, unit: 'ms', value: plain });
    out.push({ metric: `forward ${n} tokens, instrumented`, unit: 'ms', value: instrumented, note: 'all attention, embedding and residual outputs read' });
    out.push({ metric: `instrumentation cost at ${n} tokens`, unit: '%', value: (instrumented / plain - 1) * 100 });
  }
  const end = Math.min(context, plan.prompt + plan.newTokens);
  const genRuns = Math.max(1, Math.min(plan.runs, plan.generationRuns));
  if (model.hasCache) {
    const rates: number[] = [];
    for (let i = 0; i < Math.max(1, Math.min(plan.runs, plan.cacheRuns)); i++) rates.push(await generationRate(model, tokens(end - plan.newTokens, vocab, i), plan.newTokens, true));
    out.push({ metric: `generate ${plan.newTokens} tokens (${end - plan.newTokens}→${end}), key/value cache`, unit: 'tokens/s', value: median(rates), higherIsBetter: true });
  }
  const window = Math.min(plan.recomputeTokens, plan.newTokens);
  const windowLabel = `${window} tokens (${end - window}→${end})`;
  const recompute: number[] = [];
  const cached: number[] = [];
  // window 0: no recomputation timed (the reduced-precision variants; float32's rows have it).
  for (let i = 0; i < (window > 0 ? genRuns : 0); i++) {
    recompute.push(await generationRate(model, tokens(end - window, vocab, i), window, false));
    if (model.hasCache && window !== plan.newTokens) cached.push(await generationRate(model, tokens(end - window, vocab, i), window, true));
  }
  if (recompute.length > 0) out.push({ metric: `generate ${windowLabel}, recomputing`, unit: 'tokens/s', value: median(recompute), higherIsBetter: true });
  if (cached.length > 0) out.push({ metric: `generate ${windowLabel}, key/value cache`, unit: 'tokens/s', value: median(cached), higherIsBetter: true });
  const cacheRate = cached.length > 0 ? median(cached) : out.find((m) => m.metric.endsWith('key/value cache'))?.value;
  if (cacheRate !== undefined && recompute.length > 0) {
    out.push({ metric: `cache speed-up over recomputing at ${end} context`, unit: '×', value: cacheRate / median(recompute), higherIsBetter: true });
  }
  for (const n of plan.batchLengths.filter((n) => n <= context)) {
    const rows = Array.from({ length: 4 }, (_, r) => tokens(n, vocab, r + 1));
    const [batched, one] = await timePair(
      plan.runs,
      async () => (await model.forwardBatch(rows)).forwardMs,
      async () => (await model.forwardBatch([rows[0] ?? []])).forwardMs,
    );
    out.push({ metric: `4 columns at ${n} tokens, one batched step`, unit: 'ms', value: batched });
    out.push({ metric: `4 columns at ${n} tokens, 4 single steps`, unit: 'ms', value: one * 4 });
    out.push({ metric: `4-column batched step / one column at ${n} tokens`, unit: '×', value: batched / one });
    if (model.hasCache && n < context) {
      // What a comparison step does on the cache graph: each column one token further, on its own
      // cache. Each timed step starts from caches made just before it (untimed), as a column's are.
      const next = rows.map((r, i) => [...r, (i * 7 + 11) % vocab]);
      const stepFrom = async (prime: () => Promise<unknown>, step: () => Promise<unknown>): Promise<number> => {
        await prime();
        const t = performance.now();
        await step();
        return performance.now() - t;
      };
      const [cachedBatch, cachedOne] = await timePair(
        plan.runs,
        () => stepFrom(() => model.nextLogitsBatch(rows), () => model.nextLogitsBatch(next)),
        () => stepFrom(() => model.nextLogits(rows[0] ?? []), () => model.nextLogits(next[0] ?? [])),
      );
      out.push({ metric: `4 columns at ${n} tokens, one batched step on their caches`, unit: 'ms', value: cachedBatch });
      out.push({ metric: `4-column cached batched step / one column's cached step at ${n} tokens`, unit: '×', value: cachedBatch / cachedOne });
    }
  }
  out.push({ metric: 'peak memory (RSS of the process)', unit: 'MB', value: process.resourceUsage().maxRSS / 1024 });
  if (plan.pairWithFloat32 && plan.variant && model.hasCache) {
    const float32 = await OnnxModel.load(ort, readFiles(dir), { backend, threads });
    const n = plan.pairWithFloat32.tokens;
    const start = Math.min(context - n, plan.prompt);
    let round = 0;
    const [variantRate, float32Rate] = await timePair(
      Math.max(3, plan.runs),
      () => generationRate(model, tokens(start, vocab, 100 + round), n, true),
      () => generationRate(float32, tokens(start, vocab, 100 + round++), n, true),
    );
    await float32.release();
    const label = `${n} tokens (${start}→${start + n})`;
    if (backend === 'native') {
      // The same two cache graphs in bare onnxruntime-node sessions, timed in turns: what the kernels
      // give without the engine's per-step work (sampling over the vocabulary, cache bookkeeping).
      const options = { graphOptimizationLevel: 'all', executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' } as const;
      const bare = async (file: string, half: boolean): Promise<() => Promise<number>> => {
        const session = await ort.InferenceSession.create(readFileSync(join(dir, file)), options);
        const past = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
        const ids = (xs: number[]): Ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(xs, BigInt), [1, xs.length]);
        const heads = model.config.heads;
        const headDim = model.config.headDim;
        return async () => {
          const empty = new ort.Tensor(half ? 'float16' : 'float32', half ? new Uint16Array(0) : new Float32Array(0), [1, heads, 0, headDim]);
          let out = await session.run({ input_ids: ids(tokens(start, vocab, 7)), ...Object.fromEntries(past.map((name) => [name, empty])) });
          const started = performance.now();
          for (let k = 0; k < n; k++) {
            const feeds: Record<string, Ort.Tensor> = { input_ids: ids([(k * 31 + 5) % vocab]) };
            for (const name of past) feeds[name] = out[name.replace('past_key_values.', 'present.')] as Ort.Tensor;
            out = await session.run(feeds);
          }
          return n / ((performance.now() - started) / 1000);
        };
      };
      const [bareVariant, bareFloat32] = await timePair(Math.max(3, plan.runs), await bare(files.onnxWithPastFile ?? '', plan.variant === 'fp16'), await bare('onnx/decoder_with_past.onnx', false));
      out.push({ metric: `bare onnxruntime session, cache graph, ${label}`, unit: 'tokens/s', value: bareVariant, higherIsBetter: true });
      out.push({ metric: `bare onnxruntime session, cache graph / float32's, paired (${label})`, unit: '×', value: bareVariant / bareFloat32, higherIsBetter: true, note: `float32 ${bareFloat32.toFixed(1)} tokens/s; no engine, no sampling` });
    }
    out.push({ metric: `generate ${label}, key/value cache, paired with float32`, unit: 'tokens/s', value: variantRate, higherIsBetter: true });
    out.push({ metric: `float32 in the same process, ${label}`, unit: 'tokens/s', value: float32Rate, higherIsBetter: true });
    out.push({ metric: `generation on the cache / float32's, paired (${label})`, unit: '×', value: variantRate / float32Rate, higherIsBetter: true, note: 'the two models in one process, timed in turns' });
  }
  await model.release();
  return out;
}
