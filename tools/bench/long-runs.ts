/**
 * `npm run bench:long`: long runs on the engine in Node (the code `ntl` runs), checking that memory
 * stays flat: 2,000 generated tokens on seed-world, 50 model switches (seed-world <-> tiny-shakespeare,
 * each session released), 500 run-alls (tokenize, one instrumented forward pass, predict, an 8-token
 * sample). Heap and RSS at the start, after a warm-up and at the end; the growth after the warm-up
 * must stay within 10%. Printed and written to `bench-long-results.json`; exits non-zero on an error
 * or a growth over the target. Not part of `npm test`: it takes a minute or two.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { fitPrompt } from '../../src/engine/cell-results';
import { generate, generationStep, type GenerationState } from '../../src/engine/generate';
import { SeededRandom } from '../../src/engine/rng';
import { softmax, topK } from '../../src/engine/sampling/distribution';
import { OnnxModel, type ModelFiles } from '../../src/engine/session';

const ROOT = resolve(import.meta.dirname, '../..');
const MODELS = ['seed-world', 'tiny-shakespeare'] as const;
const GENERATE_TOKENS = Number(process.env['BENCH_LONG_TOKENS'] ?? 2000);
const SWITCHES = Number(process.env['BENCH_LONG_SWITCHES'] ?? 50);
const RUN_ALLS = Number(process.env['BENCH_LONG_RUNS'] ?? 500);
const TARGET_GROWTH = 0.1;
const THREADS = 1;

ort.env.logLevel = 'error';
const gc = (globalThis as { gc?: () => void }).gc;
const MB = 1024 * 1024;

interface Memory {
  at: string;
  rss_mb: number;
  heap_used_mb: number;
  external_mb: number;
  array_buffers_mb: number;
}
const memory: Memory[] = [];
function measure(at: string): Memory {
  // Twice: the first pass runs finalizers that free what the second one collects.
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const round = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;
  const row = { at, rss_mb: round(m.rss), heap_used_mb: round(m.heapUsed), external_mb: round(m.external), array_buffers_mb: round(m.arrayBuffers) };
  memory.push(row);
  console.log(`${at.padEnd(34)} rss ${String(row.rss_mb).padStart(7)} MB   heap ${String(row.heap_used_mb).padStart(6)} MB   external ${String(row.external_mb).padStart(6)} MB`);
  return row;
}

const filesCache = new Map<string, ModelFiles>();
function modelFiles(id: string): ModelFiles {
  const cached = filesCache.get(id);
  if (cached) return cached;
  const dir = join(ROOT, 'resources/models', id);
  const json = (f: string): unknown => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const withPast = join(dir, 'onnx/decoder_with_past.onnx');
  const files: ModelFiles = {
    id,
    config: json('config.json'),
    tokenizer: json('tokenizer.json'),
    tokenizerConfig: json('tokenizer_config.json'),
    onnx: new Uint8Array(readFileSync(join(dir, 'onnx/model.onnx'))),
    onnxWithPast: existsSync(withPast) ? new Uint8Array(readFileSync(withPast)) : null,
  };
  filesCache.set(id, files);
  return files;
}

const load = (id: string): Promise<OnnxModel> => OnnxModel.load(ort, modelFiles(id), { backend: 'wasm', threads: THREADS });

const PROMPTS = ['The sun rises in the', 'The cat sat on the', 'She took her money to the bank. At the bank she', 'ROMEO:\nBut soft, what light'];

/** What "Run all" does in the app, on one prompt: tokenize, one instrumented pass, predict, an 8-token sample. */
async function runAll(model: OnnxModel, prompt: string, seed: number): Promise<void> {
  const fitted = fitPrompt(model.tokenizer.encode(prompt), model.config.context);
  const pieces = fitted.ids.map((id) => model.tokenizer.piece(id));
  const forward = await model.forward(fitted.ids, true);
  if (!forward.attention || forward.lastLogits.length !== model.config.vocabSize) throw new Error(`${model.id}: the forward pass lacks attention or logits`);
  const top = topK(softmax(forward.lastLogits), 5);
  if (top.length !== 5 || pieces.length === 0) throw new Error(`${model.id}: predict found no tokens`);
  const sample = await generate(model, fitted.ids, { strategy: { strategy: 'top-k', temperature: 0.8, topK: 5 }, seed, maxTokens: 8 });
  if (sample.steps.length === 0) throw new Error(`${model.id}: the sample cell generated nothing`);
}

/**
 * Generates `total` tokens on one model, step by step as the Sample cell's Step does (going on after
 * an end-of-text token, which seed-world emits at the end of each of its short texts). The engine
 * does not slide a window: each run stops at the model's context with the reason "context-full",
 * and the next one starts again from the prompt, until `total` tokens were generated.
 */
async function generateLong(model: OnnxModel, total: number): Promise<{ tokens: number; contextStops: number; msPerToken: number }> {
  const prompt = model.tokenizer.encode('The sun rises in the');
  const sampling = { strategy: 'top-p', temperature: 1, topP: 0.95 } as const;
  let tokens = 0;
  let contextStops = 0;
  let state: GenerationState = { ids: [...prompt], steps: [], rngState: new SeededRandom(1).snapshot, stopReason: null };
  const started = performance.now();
  while (tokens < total) {
    state = await generationStep(model, { ...state, stopReason: null }, sampling);
    if (state.ids.length > model.config.context) throw new Error(`generation ran past the context: ${state.ids.length} tokens`);
    if (state.stopReason === 'context-full') {
      contextStops++;
      state = { ...state, ids: [...prompt], steps: [], stopReason: null };
    } else {
      tokens++;
    }
  }
  return { tokens, contextStops, msPerToken: (performance.now() - started) / tokens };
}

const phases: { name: string; seconds: number; note: string }[] = [];
async function phase(name: string, work: () => Promise<string>): Promise<void> {
  const started = performance.now();
  const note = await work();
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  phases.push({ name, seconds, note });
  console.log(`  ${name}: ${seconds} s. ${note}`);
}

if (!gc) console.log('note: run with node --expose-gc for steadier figures (npm run bench:long does)');
const start = measure('start');

let current = await load('seed-world');
let switches = 0;
async function switchModel(): Promise<void> {
  const next = current.id === MODELS[0] ? MODELS[1] : MODELS[0];
  await current.release();
  current = await load(next);
  await runAll(current, PROMPTS[switches % PROMPTS.length] ?? 'The', switches);
  switches++;
}

// Warm-up: every phase once in a small dose, so one-time allocations (wasm memory, caches) are made.
await phase('warm-up', async () => {
  await generateLong(current, 256);
  for (let i = 0; i < 20; i++) await runAll(current, PROMPTS[i % PROMPTS.length] ?? 'The', i);
  for (let i = 0; i < 4; i++) await switchModel();
  return 'generation, 20 run-alls, 4 switches';
});
const warm = measure('after warm-up');

await phase(`generate ${GENERATE_TOKENS} tokens (seed-world)`, async () => {
  if (current.id !== 'seed-world') await switchModel();
  const single = await generate(current, current.tokenizer.encode('The sun rises in the'), { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: GENERATE_TOKENS });
  const long = await generateLong(current, GENERATE_TOKENS);
  return (
    `One request for ${GENERATE_TOKENS} tokens stops with "${single.stopReason}" after ${single.steps.length} tokens. ` +
    `Stepping on past end-of-text: ${long.tokens} tokens, stopped ${long.contextStops} times at the context of ${current.config.context} ("context-full"; no sliding window), ` +
    `${long.msPerToken.toFixed(2)} ms a token${current.hasCache ? ' on the key/value cache' : ''}.`
  );
});
measure(`after ${GENERATE_TOKENS} tokens`);

await phase(`${SWITCHES} model switches`, async () => {
  const before = switches;
  for (let i = 0; i < SWITCHES; i++) await switchModel();
  return `${switches - before} switches between ${MODELS.join(' and ')}, each session released, each new one running a run-all.`;
});
measure(`after ${SWITCHES} switches`);

await phase(`${RUN_ALLS} run-alls`, async () => {
  for (let i = 0; i < RUN_ALLS; i++) await runAll(current, `${PROMPTS[i % PROMPTS.length] ?? 'The'} ${i}`, i);
  return `on ${current.id}: tokenize, instrumented forward, predict top 5, an 8-token sample.`;
});
await current.release();
const end = measure('end');

const growth = (a: number, b: number): number => Math.round(((b - a) / a) * 1000) / 10;
const rssGrowth = growth(warm.rss_mb, end.rss_mb);
const heapGrowth = growth(warm.heap_used_mb, end.heap_used_mb);
const isWithin = rssGrowth <= TARGET_GROWTH * 100 && heapGrowth <= TARGET_GROWTH * 100;
console.log(
  `\ngrowth after warm-up: rss ${rssGrowth}%, heap ${heapGrowth}% (target: within ${TARGET_GROWTH * 100}%): ${isWithin ? 'within the target' : 'OVER THE TARGET'}` +
    `\nsince the start: rss ${growth(start.rss_mb, end.rss_mb)}%, heap ${growth(start.heap_used_mb, end.heap_used_mb)}%`,
);
const out = join(ROOT, 'bench-long-results.json');
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, threads: THREADS, gc: gc !== undefined, phases, memory, growth_after_warm_up_pct: { rss: rssGrowth, heap: heapGrowth }, target_pct: TARGET_GROWTH * 100, within_target: isWithin }, null, 2)}\n`,
);
console.log(`wrote ${out}`);
if (!isWithin) process.exitCode = 1;
