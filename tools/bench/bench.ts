/**
 * `npm run bench`: timings that issues name as numbers, measured on this machine and printed as a
 * table plus `bench-results.json`. Medians of several runs after a warm-up; nothing here is a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackendName } from '../../src/engine/session';
import { median, runChild, type ChildPlan, type Measure } from './engine-bench';
import { uiBench, type UiResult } from './ui-bench';
import { ggufBench, type GgufBenchRow } from './gguf-bench';
import { runStep } from './step-bench';
import { memorySection, runMemory } from './memory-bench';
import { formatNotebook, parseNotebook } from '../../src/common/notebook-format';
import { NotebookStore } from '../../src/node/notebook-store';

const ROOT = resolve(import.meta.dirname, '../..');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);


interface Row {
  name: string;
  median_ms: number;
  runs: number;
  note: string;
}
const rows: Row[] = [];
const record = (name: string, samples: number[], note = ''): void => {
  rows.push({ name, median_ms: Math.round(median(samples) * 10) / 10, runs: samples.length, note });
  console.log(`${name.padEnd(48)} ${median(samples).toFixed(1).padStart(9)} ms  (${samples.length} runs) ${note}`);
};

function cliPredict(): void {
  // No --backend: the default (native where onnxruntime-node loads, threads by the model's size).
  for (const backend of ['wasm', 'native', null]) {
    const samples: number[] = [];
    const args = [join(ROOT, 'bin/ntl.mjs'), 'predict', '--model', 'seed-world', '--prompt', 'The sun rises in the', '--top', '5', '--json', ...(backend ? ['--backend', backend] : [])];
    spawnSync(process.execPath, args, { cwd: ROOT });
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ntl predict failed: ${r.stderr}`);
      samples.push(performance.now() - t);
    }
    record(`ntl predict ${backend ? `--backend ${backend}` : '(default backend and threads)'}, whole command (wall clock)`, samples, 'node bin/ntl.mjs predict --top 5 --json');
    if (!backend) targets.push({ target: '`ntl predict` as a whole command ≤ 0.5 s (default backend)', met: median(samples) <= 500, figure: `${median(samples).toFixed(0)} ms` });
  }
}

interface EngineRow extends Measure {
  model: string;
  backend: BackendName;
  threads: number;
  /** How many times slower than native at the same thread count (native / this for throughput); null for native itself and derived rows. */
  ratio_to_native: number | null;
}
const engineRows: EngineRow[] = [];
const failures: { model: string; backend: string; threads: number; error: string }[] = [];
const CACHE = join(ROOT, '.cache/bench');
const GPT2 = join(CACHE, 'gpt2-small');

/**
 * Reduced-precision variants of the GPT-2-small-shaped model (issue 13), opt-in through BENCH_MODELS:
 * the float32 graphs put through ONNX Runtime's quantizers and onnxconverter-common's float16
 * converter as tools/bench/build_gpt2_small_variants.py writes them, each with its cache graph.
 */
const GPT2_VARIANTS: Record<string, { variant: string; label: string }> = {
  'gpt2-small-int8': { variant: 'quantized', label: 'gpt2-small int8' },
  'gpt2-small-q4': { variant: 'q4', label: 'gpt2-small q4' },
  'gpt2-small-fp16': { variant: 'fp16', label: 'gpt2-small fp16' },
  // Not a transformers.js file name: q4 written with MatMulNBits' accuracy_level 4 (int8 activations, ONNX Runtime's CPU int8 kernels).
  'gpt2-small-q4-acc4': { variant: 'q4_acc4', label: 'gpt2-small q4 acc4' },
};
/** BENCH_MODELS=gpt2-small-variants: float32 and every variant. */
const MODEL_ALIASES: Record<string, string[]> = { 'gpt2-small-variants': ['gpt2-small', ...Object.keys(GPT2_VARIANTS)] };
/** The prompt whose next-token probabilities the variants are compared on (float32's from the same backend and thread count). */
const BENCH_PROMPT = 'The sun rises in the';
const probeFile = (variant: string | undefined, backend: string, threads: number): string => join(GPT2, 'probe', `${variant ?? 'float32'}-${backend}-${threads}T.f32`);

/** The GPT-2-small-shaped model, built by tools/bench/build_gpt2_small.py (torch) when the cache lacks it. */
function ensureGpt2(): string | null {
  if (existsSync(join(GPT2, 'onnx/decoder_with_past.onnx')) && existsSync(join(GPT2, 'tokenizer.json'))) return GPT2;
  const tmp = `${GPT2}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  console.log(`building the GPT-2-small-shaped model into ${GPT2} (tools/bench/build_gpt2_small.py, about a minute)…`);
  const started = performance.now();
  const python = process.env['BENCH_PYTHON'] ?? '/usr/bin/python3';
  const r = spawnSync(python, [join(ROOT, 'tools/bench/build_gpt2_small.py'), tmp], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(`could not build it (${python} exited ${r.status ?? r.signal}; it needs torch and onnx): the GPT-2-small rows are skipped`);
    return null;
  }
  renameSync(tmp, GPT2);
  console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return GPT2;
}

/** The float32 model plus one variant's files, written by tools/bench/build_gpt2_small_variants.py when missing. */
function ensureGpt2Variant(variant: string): string | null {
  const dir = ensureGpt2();
  if (!dir) return null;
  if (existsSync(join(dir, `onnx/model_${variant}.onnx`)) && existsSync(join(dir, `onnx/decoder_with_past_${variant}.onnx`))) return dir;
  console.log(`writing the ${variant} variant of ${dir} (tools/bench/build_gpt2_small_variants.py, seconds)…`);
  const python = process.env['BENCH_PYTHON'] ?? '/usr/bin/python3';
  const r = spawnSync(python, [join(ROOT, 'tools/bench/build_gpt2_small_variants.py'), dir, variant], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(`could not write it (${python} exited ${r.status ?? r.signal}): the ${variant} rows are skipped`);
    return null;
  }
  return dir;
}

const readLogits = (file: string): Float32Array => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const softmax = (logits: Float32Array): Float64Array => {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const p = Float64Array.from(logits, (x) => Math.exp(x - max));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / sum);
};
const topIds = (p: Float64Array, k: number): number[] => [...p.keys()].sort((a, b) => (p[b] ?? 0) - (p[a] ?? 0)).slice(0, k);

/** A variant's next-token probabilities on the benchmark prompt against float32's, both from the same backend and thread count. */
function compareWithFloat32(variantFile: string, float32File: string): Measure[] {
  const p = softmax(readLogits(variantFile));
  const q = softmax(readLogits(float32File));
  const top = topIds(q, 10);
  const own = topIds(p, 10);
  const union = [...new Set([...top, ...own])];
  const dp = Math.max(...union.map((i) => Math.abs((p[i] ?? 0) - (q[i] ?? 0))));
  const dlog = Math.max(...top.map((i) => Math.abs(Math.log(p[i] ?? 0) - Math.log(q[i] ?? 0))));
  const shared = own.filter((i) => top.includes(i)).length;
  const note = `"${BENCH_PROMPT}": float32's top-1 p = ${(q[top[0] ?? 0] ?? 0).toPrecision(3)}; top-1 ${own[0] === top[0] ? 'the same' : 'differs'}, ${shared}/10 of the top-10 shared`;
  return [
    { metric: 'max |p − p_float32| over the top-10, benchmark prompt', unit: 'Δp', value: dp, note },
    { metric: 'max |log p − log p_float32| over float32\'s top-10', unit: 'Δlogit', value: dlog, note },
  ];
}

function planFor(model: string, context: number, backend: string, threads: number): ChildPlan {
  const variant = GPT2_VARIANTS[model]?.variant;
  const big = model.startsWith('gpt2-small');
  const prompt = Math.min(128, context / 2);
  const newTokens = Math.min(128, context - prompt);
  return {
    runs: RUNS,
    loads: big ? 1 : 3,
    lengths: [16, 64, 256],
    prompt,
    newTokens,
    // Recomputing 256 tokens takes seconds a step on GPT-2 small: time a few steps at the end of the context.
    recomputeTokens: big ? Number(process.env['BENCH_RECOMPUTE_TOKENS'] ?? 4) : newTokens,
    cacheRuns: big ? 1 : 3,
    generationRuns: big ? 2 : 3,
    batchLengths: big ? [16] : [16, 64],
    ...(big ? { probe: { prompt: BENCH_PROMPT, out: probeFile(variant, backend, threads) } } : {}),
    // The variants: forward, generation on the cache and memory; no recomputation or batched rows (float32 has them).
    ...(variant ? { variant, recomputeTokens: 0, batchLengths: [], pairWithFloat32: { tokens: Number(process.env['BENCH_PAIRED_TOKENS'] ?? 16) } } : {}),
  };
}

const CONFIGS = (process.env['BENCH_CONFIGS'] ?? 'wasm:1,native:1,wasm:2,native:2').split(',').map((c) => {
  const [backend, threads] = c.split(':');
  if ((backend !== 'wasm' && backend !== 'native') || !Number(threads)) throw new Error(`BENCH_CONFIGS: "${c}" is not backend:threads (wasm or native)`);
  return { backend, threads: Number(threads) } as const;
});

async function engine(): Promise<void> {
  const names = (process.env['BENCH_MODELS'] ?? 'seed-world,tiny-shakespeare,gpt2-small').split(',').flatMap((n) => MODEL_ALIASES[n] ?? [n]);
  const runOne = (dir: string, backend: string, threads: number, plan: ChildPlan): { measures: Measure[] } | { error: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/bench.mjs'), '--child', dir, backend, String(threads), JSON.stringify(plan)], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !last.startsWith('[')) return { error: r.stderr.trim().split('\n').filter((l) => /error/i.test(l)).at(-1) ?? r.stderr.trim().split('\n').at(-1) ?? String(r.status ?? r.signal) };
    return { measures: JSON.parse(last) as Measure[] };
  };
  for (const name of names) {
    const variant = GPT2_VARIANTS[name];
    const dir = name === 'gpt2-small' ? ensureGpt2() : variant ? ensureGpt2Variant(variant.variant) : join(ROOT, 'resources/models', name);
    if (!dir) continue;
    const label = variant?.label ?? name;
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { n_positions?: number };
    for (const { backend, threads } of CONFIGS) {
      const plan = planFor(name, config.n_positions ?? 128, backend, threads);
      const started = performance.now();
      const r = runOne(dir, backend, threads, plan);
      if ('error' in r) {
        console.log(`${label} on ${backend} ${threads}: failed (${r.error})`);
        failures.push({ model: label, backend, threads, error: r.error });
        continue;
      }
      const measures = r.measures;
      if (variant) {
        // float32's logits on the same backend and thread count: from this run, or a probe-only child.
        const reference = probeFile(undefined, backend, threads);
        if (!engineRows.some((e) => e.model === 'gpt2-small' && e.backend === backend && e.threads === threads)) {
          const ref = runOne(dir, backend, threads, { ...planFor('gpt2-small', config.n_positions ?? 128, backend, threads), probeOnly: true, loads: 1 });
          if ('error' in ref) console.log(`float32 reference on ${backend} ${threads}: failed (${ref.error})`);
        }
        if (existsSync(reference) && plan.probe) measures.push(...compareWithFloat32(plan.probe.out, reference));
      }
      for (const m of measures) engineRows.push({ ...m, model: label, backend, threads, ratio_to_native: null });
      const note = measures.find((m) => m.metric.startsWith('session creation'))?.note;
      console.log(`${label} on ${backend}, ${threads} thread${threads === 1 ? '' : 's'}: ${((performance.now() - started) / 1000).toFixed(0)} s${note ? ` (${note})` : ''}`);
    }
  }
  // Each variant's generation on the cache against float32's, same backend and thread count.
  for (const row of [...engineRows]) {
    if (!Object.values(GPT2_VARIANTS).some((v) => v.label === row.model) || !row.metric.endsWith('key/value cache') || row.unit !== 'tokens/s') continue;
    const base = engineRows.find((r) => r.model === 'gpt2-small' && r.backend === row.backend && r.threads === row.threads && r.metric === row.metric);
    if (base) {
      engineRows.push({ model: row.model, backend: row.backend, threads: row.threads, metric: `${row.metric.replace(/^generate /, 'generation ')} / float32's`, unit: '×', value: row.value / base.value, ratio_to_native: null, higherIsBetter: true });
    }
  }
  for (const row of engineRows) {
    if (row.backend === 'native' || row.unit === '%' || row.unit === '×' || row.unit === 'Δp' || row.unit === 'Δlogit') continue;
    const native = engineRows.find((r) => r.backend === 'native' && r.threads === row.threads && r.model === row.model && r.metric === row.metric);
    if (native) row.ratio_to_native = row.higherIsBetter ? native.value / row.value : row.value / native.value;
  }
  printEngineTable();
  printTargets();
  printVariantTargets();
}

/** Issue 13's target: q4 or int8 generation ≥ 2.5× float32's tokens/s on native, predictions within 2e-2 of float32's. */
function printVariantTargets(): void {
  const labels = Object.values(GPT2_VARIANTS).map((v) => v.label);
  if (!engineRows.some((r) => labels.includes(r.model))) return;
  const speed = engineRows.filter((r) => labels.includes(r.model) && r.metric.startsWith("generation on the cache / float32's, paired"));
  const describe = (rs: EngineRow[]): string => rs.map((r) => `${r.model.replace('gpt2-small ', '')} ${r.backend} ${r.threads}T ${r.value.toFixed(2)}×`).join(', ');
  const quantNative = speed.filter((r) => r.backend === 'native' && !r.model.endsWith('fp16'));
  const bare = engineRows.filter((r) => labels.includes(r.model) && r.metric.startsWith("bare onnxruntime session, cache graph / float32's"));
  const separate = engineRows.filter((r) => labels.includes(r.model) && r.metric.endsWith("/ float32's"));
  const close = engineRows.filter((r) => labels.includes(r.model) && r.unit === 'Δp');
  const maxDp = close.reduce((m, r) => Math.max(m, r.value), 0);
  targets.push({
    target: "q4 or int8 generation on the cache ≥ 2.5× float32's tokens/s on native (paired in one process)",
    met: quantNative.length > 0 ? quantNative.some((r) => r.value >= 2.5) : null,
    figure: `${describe(speed) || 'not measured'}; bare onnxruntime sessions of the cache graphs (no engine): ${describe(bare) || 'not measured'}; from the separate processes' 128-token rows: ${describe(separate) || 'not measured'}`,
  });
  targets.push({
    target: "variants' top-10 probabilities within 2e-2 of float32's on the benchmark prompt",
    met: close.length > 0 ? maxDp <= 2e-2 : null,
    figure: close.map((r) => `${r.model.replace('gpt2-small ', '')} ${r.backend} ${r.threads}T ${r.value.toExponential(1)}`).join(', '),
  });
  console.log("\nIssue 13's targets (GPT-2-small-shaped, reduced precision against float32):");
  for (const g of targets.slice(-2)) console.log(`  ${g.met === null ? 'not measured' : g.met ? 'met   ' : 'missed'}  ${g.target}: ${g.figure}`);
  for (const f of failures) console.log(`  failed: ${f.model} on ${f.backend} ${f.threads}T: ${f.error}`);
}

const fmt = (m: EngineRow | undefined): string => {
  if (!m) return '—';
  if (m.unit === 'Δp' || m.unit === 'Δlogit') return m.value.toExponential(1);
  const digits = m.unit === '×' ? 2 : m.unit === 'MB' ? 0 : 1;
  return `${m.value.toFixed(digits)}${m.unit === '%' ? '%' : m.unit === '×' ? '×' : ''}`;
};

function printEngineTable(): void {
  const threadCounts = [...new Set(CONFIGS.map((c) => c.threads))];
  const header = ['model', 'measure', 'unit', ...threadCounts.flatMap((t) => [`wasm ${t}T`, `native ${t}T`, `ratio ${t}T`])];
  const lines: string[][] = [];
  for (const model of [...new Set(engineRows.map((r) => r.model))]) {
    for (const metric of [...new Set(engineRows.filter((r) => r.model === model).map((r) => r.metric))]) {
      const find = (backend: string, t: number): EngineRow | undefined => engineRows.find((r) => r.model === model && r.metric === metric && r.backend === backend && r.threads === t);
      const any = engineRows.find((r) => r.model === model && r.metric === metric);
      lines.push([
        model,
        metric,
        any?.unit ?? '',
        ...threadCounts.flatMap((t) => {
          const wasm = find('wasm', t);
          return [fmt(wasm), fmt(find('native', t)), wasm?.ratio_to_native == null ? '—' : `${wasm.ratio_to_native.toFixed(2)}×`];
        }),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: string[]): string => `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(`\nEngine in Node (median of ${RUNS} runs after a warm-up; ratio: how many times slower wasm is than native at the same thread count)\n`);
  console.log(row(header));
  console.log(`| ${widths.map((w, i) => (i < 3 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
  for (const l of lines) console.log(row(l));
}

interface Target {
  target: string;
  met: boolean | null;
  figure: string;
}
const targets: Target[] = [];

function printTargets(): void {
  const model = engineRows.some((r) => r.model === 'gpt2-small') ? 'gpt2-small' : 'tiny-shakespeare';
  const t = Math.max(...CONFIGS.map((c) => c.threads));
  const pick = (backend: string, prefix: string): EngineRow[] => engineRows.filter((r) => r.model === model && r.backend === backend && r.threads === t && r.metric.startsWith(prefix));
  const forwards = pick('wasm', 'forward ').filter((r) => r.metric.endsWith('logits only') && r.ratio_to_native !== null);
  const worst = forwards.reduce<EngineRow | null>((w, r) => (w === null || (r.ratio_to_native ?? 0) > (w.ratio_to_native ?? 0) ? r : w), null);
  const ratios = forwards.map((r) => `${r.metric.replace(', logits only', '')} ${r.ratio_to_native?.toFixed(2)}×`).join(', ');
  const nativeForwards = pick('native', 'forward ');
  targets.push({
    target: "app's fastest CPU path within 1.3× native",
    met: worst ? (worst.ratio_to_native ?? Infinity) <= 1.3 : null,
    figure: `the desktop app runs the native engine (1.00× by definition, plus a message-port copy; not timed in Electron here); the browser build runs wasm: ${ratios || 'not measured'}`,
  });
  targets.push({ target: 'wasm within 3× native', met: worst ? (worst.ratio_to_native ?? Infinity) <= 3 : null, figure: ratios || 'not measured' });
  const costs = [...pick('wasm', 'instrumentation cost'), ...pick('native', 'instrumentation cost')];
  targets.push({
    target: 'instrumentation ≤ 15% over plain logits',
    met: costs.length > 0 ? costs.every((c) => c.value <= 15) : null,
    figure: costs.map((c) => `${c.backend} ${c.metric.replace('instrumentation cost at ', '')} ${c.value.toFixed(1)}%`).join(', '),
  });
  const speedups = [...pick('wasm', 'cache speed-up'), ...pick('native', 'cache speed-up')];
  targets.push({
    target: 'cache ≥ 5× faster than recomputation at 256 context',
    met: speedups.length > 0 ? speedups.every((c) => c.value >= 5) : null,
    figure: speedups.map((c) => `${c.backend} ${c.value.toFixed(1)}× (${c.metric.replace('cache speed-up over recomputing at ', '')})`).join(', '),
  });
  // A comparison step runs on the columns' caches where the model has a cache graph (as both bundled models and GPT-2 small do).
  const cachedBatches = [...pick('wasm', '4-column cached batched'), ...pick('native', '4-column cached batched')];
  const batches = cachedBatches.length > 0 ? cachedBatches : [...pick('wasm', '4-column batched'), ...pick('native', '4-column batched')];
  targets.push({
    target: 'batched 4-column step ≤ 2× one column',
    met: batches.length > 0 ? batches.every((c) => c.value <= 2) : null,
    figure: batches.map((c) => `${c.backend} ${c.value.toFixed(2)}× (${c.metric.replace(/4-column (cached )?batched step \/ one column('s cached step)? at /, '')}${cachedBatches.length > 0 ? ', on the caches' : ''})`).join(', '),
  });
  console.log(`\nIssue 7's targets (${model}, ${t} thread${t === 1 ? '' : 's'}${nativeForwards.length === 0 ? ', no native rows' : ''}):`);
  for (const g of targets) console.log(`  ${g.met === null ? 'not measured' : g.met ? 'met   ' : 'missed'}  ${g.target}: ${g.figure}`);
}

/** Listing a workspace of 1,000 notebooks: the first time (every file read) and again (unchanged files from the cache). */
async function notebookListing(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ntl-bench-notebooks-'));
  try {
    const doc = parseNotebook(JSON.parse(readFileSync(join(ROOT, 'tests/node/fixtures/sun.ntl.json'), 'utf8')));
    for (let i = 0; i < 1000; i++) {
      const name = `Notebook ${String(i).padStart(4, '0')}`;
      writeFileSync(join(dir, `${name}.ntl.json`), formatNotebook({ ...doc, name, cells: [{ id: 'n', kind: 'note', text: `# Experiment ${i}` }, ...doc.cells] }));
    }
    const first: number[] = [];
    const again: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const store = new NotebookStore(dir);
      let t = performance.now();
      const entries = await store.list();
      first.push(performance.now() - t);
      if (entries.length !== 1000) throw new Error(`listed ${entries.length} notebooks, expected 1000`);
      t = performance.now();
      await store.list();
      again.push(performance.now() - t);
    }
    record('list 1,000 notebooks, first listing', first, 'each file read and validated');
    record('list 1,000 notebooks, again', again, 'unchanged files from the cache');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Issue 18's rows: a generation step's parts on GPT-2 small (tiny-shakespeare without torch), native, in a process of its own. */
const stepRows: (Measure & { model: string; threads: number })[] = [];
function step(): void {
  const dir = ensureGpt2() ?? join(ROOT, 'resources/models/tiny-shakespeare');
  const model = dir === GPT2 ? 'gpt2-small' : 'tiny-shakespeare';
  const threads = Number(process.env['BENCH_STEP_THREADS'] ?? 1);
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/bench.mjs'), '--step', dir, String(threads)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('[')) throw new Error(`the step bench failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const measures = JSON.parse(last) as Measure[];
  console.log(`\nA generation step's parts (${model}, native, ${threads} thread${threads === 1 ? '' : 's'}; pairs timed in turns, medians of ${RUNS}):`);
  for (const m of measures) {
    stepRows.push({ ...m, model, threads });
    console.log(`  ${m.metric.padEnd(72)} ${m.value.toFixed(m.unit === '×' ? 2 : 1).padStart(9)} ${m.unit}${m.note ? `  (${m.note})` : ''}`);
  }
  const find = (prefix: string): Measure | undefined => measures.find((m) => m.metric.startsWith(prefix));
  const before = targets.length;
  const sampling = measures.filter((m) => m.metric.startsWith('sampling a token over')).at(-1);
  const engineStep = find("engine's cached step (nextLogits)");
  if (sampling && engineStep) {
    const share = (sampling.value / (1000 / engineStep.value)) * 100;
    targets.push({ target: `${model}: top-p sampling ≤ 10% of a cached step`, met: share <= 10, figure: `${sampling.value.toFixed(1)} ms, ${share.toFixed(1)}% of ${(1000 / engineStep.value).toFixed(1)} ms` });
  }
  const overhead = find("engine's cached step / bare");
  if (overhead) targets.push({ target: `${model}: engine's cached step ≤ 1.15× a bare onnxruntime-node session`, met: overhead.value <= 1.15, figure: `${overhead.value.toFixed(2)}×` });
  const generation = find('generate ');
  if (generation) targets.push({ target: `${model}: generation on the cache ≥ 30 tokens/s (native, ${threads} thread${threads === 1 ? '' : 's'})`, met: generation.value >= 30, figure: `${generation.value.toFixed(1)} tokens/s (top-p); bare session ${(find('bare onnxruntime-node')?.value ?? NaN).toFixed(1)}` });
  const forward = measures.find((m) => m.metric.includes('the engine / onnxruntime-node alone'));
  if (forward) targets.push({ target: `${model}: the engine's native forward (160 tokens) ≤ 1.15× onnxruntime-node alone`, met: forward.value <= 1.15, figure: `${forward.value.toFixed(2)}×` });
  const head = measures.find((m) => m.metric.includes('last position / every position'));
  if (head) targets.push({ target: `${model}: forward with the last position's logits ≤ 0.7× every position's`, met: head.value <= 0.7, figure: `${head.value.toFixed(2)}×` });
  const load = find('model load / plain session');
  if (load) targets.push({ target: `${model}: model load ≤ 1.2× a plain onnxruntime-node session of the same file`, met: load.value <= 1.2, figure: `${load.value.toFixed(2)}× (${(find('model load (')?.value ?? NaN).toFixed(0)} / ${(find('plain onnxruntime-node session of model.onnx')?.value ?? NaN).toFixed(0)} ms)` });
  const memory = find('peak memory');
  if (memory) targets.push({ target: `${model}: peak memory ≤ 1,500 MB`, met: memory.value <= 1500, figure: `${memory.value.toFixed(0)} MB` });
  console.log("\nIssue 18's targets:");
  for (const g of targets.slice(before)) console.log(`  ${g.met ? 'met   ' : 'missed'}  ${g.target}: ${g.figure}`);
}

/** `npm run bench -- notebooks engine`: only the sections named; none named: all of them. */
let uiRows: UiResult[] = [];
let memoryRows: Measure[] = [];
let ggufRows: GgufBenchRow[] = [];
const SECTIONS: Record<string, () => Promise<void> | void> = {
  notebooks: notebookListing,
  cli: cliPredict,
  engine,
  gguf: async () => {
    console.log('\nGGUF on llama.cpp next to ONNX on the same weights (seed-world, greedy decode on the cache, median of runs):');
    ggufRows = await ggufBench(ROOT, RUNS);
  },
  step,
  memory: () => {
    const dir = ensureGpt2() ?? join(ROOT, 'resources/models/tiny-shakespeare');
    memoryRows = memorySection(ROOT, dir, dir === GPT2 ? 'gpt2-small' : 'tiny-shakespeare', targets);
  },
  ui: async () => {
    console.log('\nthe app in Chromium (browser build, seed-world):');
    uiRows = await uiBench(ROOT, RUNS);
  },
};
if (process.argv[2] === '--step') {
  const [dir, threads] = process.argv.slice(3);
  if (!dir) throw new Error('usage: bench.mjs --step <model folder> <threads>');
  console.log(JSON.stringify(await runStep(dir, Number(threads ?? 1), RUNS)));
  process.exit(0);
}
if (process.argv[2] === '--memory') {
  const [dir, backend, threads] = process.argv.slice(3);
  if (!dir || (backend !== 'wasm' && backend !== 'native')) throw new Error('usage: bench.mjs --memory <model folder> wasm|native <threads>');
  console.log(JSON.stringify(await runMemory(dir, backend, Number(threads ?? 1))));
  process.exit(0);
}
if (process.argv[2] === '--gen-profile') {
  const [dir, rounds] = process.argv.slice(3);
  if (!dir) throw new Error('usage: bench.mjs --gen-profile <model folder> [rounds]');
  await (await import('./gen-profile')).runGenProfile(dir, Number(rounds ?? 5));
  process.exit(0);
}
if (process.argv[2] === '--child') {
  const [dir, backend, threads, plan] = process.argv.slice(3);
  if (!dir || (backend !== 'wasm' && backend !== 'native') || !plan) throw new Error('usage: bench.mjs --child <model folder> wasm|native <threads> <plan JSON>');
  console.log(JSON.stringify(await runChild(dir, backend, Number(threads), JSON.parse(plan) as ChildPlan)));
  process.exit(0);
}
const wanted = process.argv.slice(2);
for (const name of wanted) if (!(name in SECTIONS)) throw new Error(`no bench section "${name}": the sections are ${Object.keys(SECTIONS).join(', ')}`);
for (const [name, run] of Object.entries(SECTIONS)) if (wanted.length === 0 || wanted.includes(name)) await run();
const out = join(ROOT, 'bench-results.json');
const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);
const engineJson = engineRows.map((r) => ({ model: r.model, metric: r.metric, unit: r.unit, backend: r.backend, threads: r.threads, value: r.unit === 'Δp' || r.unit === 'Δlogit' ? Number(r.value.toPrecision(3)) : round(r.value), ratio_to_native: round(r.ratio_to_native), ...(r.note ? { note: r.note } : {}) }));
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, rows, engine: engineJson, ...(failures.length > 0 ? { failures } : {}), ui: uiRows.map((r) => ({ ...r, value: round(r.value) })), gguf: ggufRows, step: stepRows.map((r) => ({ ...r, value: round(r.value) })), memory: memoryRows.map((r) => ({ ...r, value: round(r.value) })), targets }, null, 2) + '\n');
console.log(`\nwrote ${out}`);
