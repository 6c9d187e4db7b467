/**
 * Issue 18's engine rows (`npm run bench -- step`): where a generation step's time goes on one model
 * in one process, every comparison timed in turns so that load from elsewhere falls on both sides.
 * - sampling a token over the whole vocabulary (the sampler chain in JavaScript) against the cached
 *   forward step it follows;
 * - the engine's cached step against the same cache graph in a bare onnxruntime-node session;
 * - a forward pass with the head (final norm, unembedding) on the last position against every position;
 * - generation on the cache with top-p sampling (whole `generationStep`s), tokens/s, in turns with the bare session;
 * - the engine's forward call on 160 tokens against onnxruntime-node alone on model.onnx;
 * - the process's peak RSS after the model is loaded.
 * Run by bench.ts as `node bin/bench.mjs --step <model folder> <threads>`; prints one JSON line.
 */
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-web';
import { resolveSampling } from '../../src/common/sampling-strategy';
import { applyChain } from '../../src/engine/sampling/chain';
import { OnnxModel, type OrtModule } from '../../src/engine/session';
import { loadOrt } from '../../src/node/ort-runtime';
import { cachedLoops } from './cached-loops';
import { median, readFiles, timePair, timeTurns, type Measure } from './engine-bench';

const SAMPLERS = {
  greedy: { strategy: 'greedy' },
  'top-k 40 (T 0.8)': { strategy: 'top-k', temperature: 0.8, topK: 40 },
  'top-p 0.9 (T 0.8)': { strategy: 'top-p', temperature: 0.8, topP: 0.9 },
} as const;


/**
 * The bench model loaded from its files as the engine takes them (model.onnx and its
 * decoder_with_past.onnx, the graphs without their weights, as ntl reads them), and the cache
 * graph's path for a bare session (onnxruntime-node reads it; no copy of its bytes in the process
 * before the peak is read). The files (tokenizer.json's parsed 50,000-entry vocabulary and merges
 * among them) are not kept after the load, as in `ntl`: every full collection during generation
 * marks what stays on the JS heap.
 */
export async function loadBenchModel(ort: OrtModule, dir: string, threads: number): Promise<{ model: OnnxModel; withPast: string }> {
  return { model: await OnnxModel.load(ort, readFiles(dir), { backend: 'native', threads }), withPast: join(dir, 'onnx/decoder_with_past.onnx') };
}

export async function runStep(dir: string, threads: number, runs: number): Promise<Measure[]> {
  const ort = await loadOrt('native');
  const { model, withPast } = await loadBenchModel(ort, dir, threads);
  const sessions = model.sessionNote ?? (model.cacheShared ? 'one session, the cache graph running everything' : 'one session');
  const out: Measure[] = [{ metric: 'peak memory after loading (RSS of the process)', unit: 'MB', value: process.resourceUsage().maxRSS / 1024, note: `${sessions}; the graphs read without their weights (onnxruntime-node reads them from the files)` }];

  // Loading the model (as ntl does) against a plain onnxruntime-node session of model.onnx from its path, in turns.
  const options = { graphOptimizationLevel: 'all', executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' } as const;
  const timed = async (make: () => Promise<{ release(): Promise<void> }>): Promise<number> => {
    const started = performance.now();
    const made = await make();
    const ms = performance.now() - started;
    await made.release();
    return ms;
  };
  const [engineLoad, plainLoad] = await timePair(
    runs,
    () => timed(() => OnnxModel.load(ort, readFiles(dir), { backend: 'native', threads })),
    () => timed(() => ort.InferenceSession.create(join(dir, 'onnx/model.onnx'), options)),
  );
  out.push({ metric: 'model load (as ntl reads it)', unit: 'ms', value: engineLoad });
  out.push({ metric: 'plain onnxruntime-node session of model.onnx from its path', unit: 'ms', value: plainLoad });
  out.push({ metric: 'model load / plain session, paired', unit: '×', value: engineLoad / plainLoad, note: 'target ≤ 1.2×' });
  const vocab = model.tokenizer.info.vocabSize;
  const prompt = Array.from({ length: Math.min(128, model.config.context / 2) }, (_, i) => (i * 7919 + 13) % vocab);
  const steps = 16;

  // The engine's cached step against a bare session of the same cache graph, in turns.
  const bare = await ort.InferenceSession.create(withPast, options);
  const loops = cachedLoops(ort, model, prompt, steps);
  const rate = (loop: () => Promise<number>) => async (): Promise<number> => 1000 / (await loop());
  const [engineOnly, bareOnly, generated] = await timeTurns(runs, [rate(loops.nextLogits), rate(loops.bare(bare)), rate(loops.generate(SAMPLERS['top-p 0.9 (T 0.8)']))]);
  await bare.release();
  const label = `${steps} tokens (${prompt.length}→${prompt.length + steps})`;
  out.push({ metric: `engine's cached step (nextLogits), ${label}`, unit: 'tokens/s', value: engineOnly ?? NaN, higherIsBetter: true });
  out.push({ metric: `bare onnxruntime-node session of the cache graph, ${label}`, unit: 'tokens/s', value: bareOnly ?? NaN, higherIsBetter: true });
  out.push({ metric: `engine's cached step / bare session's time, paired`, unit: '×', value: (bareOnly ?? NaN) / (engineOnly ?? NaN), note: 'what the engine adds: feeds, cache bookkeeping, the logits copy' });
  out.push({
    metric: `generate ${label} on the cache, top-p 0.9 (T 0.8)`,
    unit: 'tokens/s',
    value: generated ?? NaN,
    higherIsBetter: true,
    note: `generationStep (forward, sampler chain, entropy, token text), in turns with the bare session (${(bareOnly ?? NaN).toFixed(1)} tokens/s)`,
  });

  // Sampling over the vocabulary on the model's own logits, against the cached step it follows.
  const logits = await model.nextLogits(prompt);
  const stepMs = 1000 / (engineOnly ?? NaN);
  for (const [name, sampling] of Object.entries(SAMPLERS)) {
    const settings = resolveSampling(sampling);
    const times: number[] = [];
    for (let i = 0; i < Math.max(40, runs * 15); i++) {
      const t = performance.now();
      applyChain(logits, prompt, settings, { rng: i + 1, mu: null });
      times.push(performance.now() - t);
    }
    const ms = median(times);
    out.push({ metric: `sampling a token over ${vocab} logits, ${name}`, unit: 'ms', value: ms, note: `${((ms / stepMs) * 100).toFixed(1)}% of a cached step (${stepMs.toFixed(1)} ms)` });
  }

  // The head on the last position (what predict and generation read) against every position
  // (surprisal), one session; and the engine's whole forward call (feeds, run, the logits read)
  // against onnxruntime-node alone on model.onnx as it is (every position's logits, as a user of it gets them).
  const n = Math.min(160, model.config.context);
  const ids = Array.from({ length: n }, (_, i) => (i * 7919 + 13) % vocab);
  const plain = await ort.InferenceSession.create(join(dir, 'onnx/model.onnx'), { graphOptimizationLevel: 'all', executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
  const int64 = (xs: number[]): Ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(xs, BigInt), [1, xs.length]);
  const plainFeeds: Record<string, Ort.Tensor> = { input_ids: int64(ids) };
  if (plain.inputNames.includes('attention_mask')) plainFeeds['attention_mask'] = int64(Array<number>(n).fill(1));
  if (plain.inputNames.includes('position_ids')) plainFeeds['position_ids'] = int64(ids.map((_, i) => i));
  const wall = async (f: () => Promise<unknown>): Promise<number> => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const [last, every, engineCall, bareCall] = await timeTurns(runs, [
    async () => (await model.forward(ids, false)).forwardMs,
    async () => (await model.positionLogits(ids)).forwardMs,
    () => wall(() => model.forward(ids, false)),
    () => wall(() => plain.run(plainFeeds, ['logits'])),
  ]);
  await plain.release();
  out.push({ metric: `forward ${n} tokens, logits of the last position`, unit: 'ms', value: last ?? NaN });
  out.push({ metric: `forward ${n} tokens, logits of every position`, unit: 'ms', value: every ?? NaN });
  out.push({ metric: `forward ${n} tokens, last position / every position, paired`, unit: '×', value: (last ?? NaN) / (every ?? NaN) });
  out.push({ metric: `forward ${n} tokens, the engine's forward call (ntl predict's pass)`, unit: 'ms', value: engineCall ?? NaN });
  out.push({ metric: `forward ${n} tokens, onnxruntime-node alone on model.onnx`, unit: 'ms', value: bareCall ?? NaN });
  out.push({ metric: `forward ${n} tokens, the engine / onnxruntime-node alone, paired`, unit: '×', value: (engineCall ?? NaN) / (bareCall ?? NaN), note: 'the engine runs its head on the last position only' });
  await model.release();
  return out;
}
