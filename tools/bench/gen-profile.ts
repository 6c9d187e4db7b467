/**
 * Where a cached generation step's milliseconds go on GPT-2 small, native, 1 thread (issue 18), in
 * one process, each loop timed in turns (rounds of `STEPS` cached steps after a 128-token prompt):
 * - a bare onnxruntime-node session of the decoder_with_past file, fed and fetched by hand;
 * - the engine's cache session run bare (the same feeds), to tell the graph from the JavaScript;
 * - the engine's `nextLogits` loop, its `session.run` time apart;
 * - `generationStep` loops (greedy and top-p 0.9 at T 0.8): the whole step as `ntl generate` runs it.
 * Wall and CPU milliseconds a step, medians of the rounds, and the collections' main-thread pauses
 * a step (PerformanceObserver 'gc') with the number of full (mark-compact) ones per round.
 *   node bin/bench.mjs --gen-profile .cache/bench/gpt2-small [rounds]
 *   GEN_PROFILE_ONLY=top-p node --cpu-prof bin/bench.mjs --gen-profile .cache/bench/gpt2-small 5
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type * as Ort from 'onnxruntime-web';
import { loadOrt } from '../../src/node/ort-runtime';
import { median } from './engine-bench';
import { cachedLoops } from './cached-loops';
import { loadBenchModel } from './step-bench';

const STEPS = 16;
let cpuStart = process.cpuUsage();
/** Collections on the main thread (their pauses) since the loop's timed steps began: count, full ones, milliseconds. */
const gc = { count: 0, full: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.ms += entry.duration;
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.full++;
  }
}).observe({ entryTypes: ['gc'] });

export async function runGenProfile(dir: string, rounds: number): Promise<void> {
  const ort = await loadOrt('native');
  const { model, withPast } = await loadBenchModel(ort, dir, 1);
  const vocab = model.tokenizer.info.vocabSize;
  const prompt = Array.from({ length: 128 }, (_, i) => (i * 7919 + 13) % vocab);
  const options = { graphOptimizationLevel: 'all', executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' } as const;
  const bare = await ort.InferenceSession.create(withPast, options);
  // The engine's own cache session (decoder_with_past with its head on chosen rows), reached for timing only.
  const kv = Reflect.get(model, 'kv') as { graph: { session: Ort.InferenceSession } | null };
  const engineSession = kv.graph?.session;
  if (!engineSession) throw new Error('the model has no cache graph');
  let runMs = 0;
  const run = engineSession.run.bind(engineSession);
  engineSession.run = (async (feeds: Ort.InferenceSession.FeedsType, fetches?: readonly string[]) => {
    const t = performance.now();
    const out = await run(feeds, fetches as string[]);
    runMs += performance.now() - t;
    return out;
  }) as typeof engineSession.run;

  const timed = cachedLoops(ort, model, prompt, STEPS, () => {
    cpuStart = process.cpuUsage();
    runMs = 0;
    Object.assign(gc, { count: 0, full: 0, ms: 0 });
  });
  const loops: [string, () => Promise<number>][] = [
    ['bare session, decoder_with_past as it is', timed.bare(bare)],
    ["bare loop on the engine's cache session", timed.bare(engineSession)],
    ['engine nextLogits', timed.nextLogits],
    ['generationStep, greedy', timed.generate({ strategy: 'greedy' })],
    ['generationStep, top-p 0.9 (T 0.8)', timed.generate({ strategy: 'top-p', temperature: 0.8, topP: 0.9 })],
  ];
  // GEN_PROFILE_ONLY=top-p (a part of a loop's name) times that loop alone, e.g. under node --cpu-prof.
  const only = process.env['GEN_PROFILE_ONLY'];
  if (only) loops.splice(0, loops.length, ...loops.filter(([name]) => name.includes(only)));
  const wall = loops.map(() => [] as number[]);
  const cpu = loops.map(() => [] as number[]);
  const runs: number[] = [];
  const gcs = loops.map(() => [] as { ms: number; full: number }[]);
  for (let r = 0; r < rounds + 1; r++) {
    for (const [i, [name, loop]] of loops.entries()) {
      const ms = await loop();
      const used = process.cpuUsage(cpuStart);
      // The loop's last collections are reported after it returns.
      await new Promise((resolve) => setImmediate(resolve));
      const collected = { ms: gc.ms / STEPS, full: gc.full };
      if (name === 'engine nextLogits') runs.push(runMs / STEPS);
      if (r === 0) continue;
      wall[i]?.push(ms);
      gcs[i]?.push(collected);
      cpu[i]?.push((used.user + used.system) / 1000 / STEPS);
    }
  }
  console.log(`ms a step, medians of ${rounds} rounds of ${STEPS} steps (128→${128 + STEPS} tokens), load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const [i, [name]] of loops.entries()) console.log(`${name.padEnd(44)} wall ${median(wall[i] ?? []).toFixed(2).padStart(7)}  cpu ${median(cpu[i] ?? []).toFixed(2).padStart(7)}  ${(1000 / median(wall[i] ?? [])).toFixed(1)} tok/s  gc ${median((gcs[i] ?? []).map((g) => g.ms)).toFixed(2)} ms a step, ${median((gcs[i] ?? []).map((g) => g.full))} full in ${STEPS}`);
  console.log(`engine nextLogits: its session.run ${median(runs.slice(1)).toFixed(2)} ms a step`);
  await bare.release();
  await model.release();
}
