/**
 * `npm run bench`: timings that issues name as numbers, measured on this machine and printed as a
 * table plus `bench-results.json`. Medians of several runs after a warm-up; nothing here is a test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { EngineModel } from '../../src/engine/session';
import { formatNotebook, parseNotebook } from '../../src/common/notebook-format';
import { NotebookStore } from '../../src/main/services/notebook-store';

const ROOT = resolve(import.meta.dirname, '../..');
const MODEL = join(ROOT, 'resources/models/seed-world');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

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
  const samples: number[] = [];
  const args = [join(ROOT, 'bin/ntl.mjs'), 'predict', '--model', 'seed-world', '--prompt', 'The sun rises in the', '--top', '5', '--json'];
  spawnSync(process.execPath, args, { cwd: ROOT });
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ntl predict failed: ${r.stderr}`);
    samples.push(performance.now() - t);
  }
  record('ntl predict, whole command (wall clock)', samples, 'node bin/ntl.mjs predict --top 5 --json');
}

async function engine(threads: number): Promise<void> {
  const json = (f: string): unknown => JSON.parse(readFileSync(join(MODEL, f), 'utf8'));
  const files = { id: 'seed-world', config: json('config.json'), tokenizer: json('tokenizer.json'), tokenizerConfig: json('tokenizer_config.json'), onnx: new Uint8Array(readFileSync(join(MODEL, 'onnx/model.onnx'))) };
  const loads: number[] = [];
  let model: EngineModel | null = null;
  for (let i = 0; i < 3; i++) {
    await model?.release();
    const t = performance.now();
    model = await EngineModel.load(ort, files, { backend: 'wasm', threads });
    loads.push(performance.now() - t);
  }
  if (!model) return;
  record(`engine load (Node, wasm, ${threads} thread)`, loads, 'session creation with instrumentation');
  for (const n of [5, 16, 64, 128]) {
    const ids = Array.from({ length: n }, (_, i) => (i * 7) % 1000);
    for (const instrument of [false, true]) {
      await model.forward(ids, instrument);
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) samples.push((await model.forward(ids, instrument)).forwardMs);
      record(`forward ${n} tokens, ${instrument ? 'instrumented' : 'logits only'} (${threads} thread)`, samples);
    }
  }
  if (threads === 2) {
    // Generation: 100 new tokens after a 5-token prompt, on the key/value cache vs recomputing.
    const withPast = join(MODEL, 'onnx/decoder_with_past.onnx');
    const cachedModel = await EngineModel.load(ort, { ...files, onnxWithPast: new Uint8Array(readFileSync(withPast)) }, { backend: 'wasm', threads });
    const prompt = cachedModel.tokenizer.encode('The sun rises in the');
    for (const [name, m] of [['key/value cache', cachedModel], ['recomputing the sequence', model]] as const) {
      const rates: number[] = [];
      for (let i = 0; i < Math.max(2, Math.ceil(RUNS / 2)); i++) {
        const t = performance.now();
        let state = { ids: [...prompt], steps: [] as unknown[] };
        for (let k = 0; k < 100; k++) {
          const logits = await m.nextLogits(state.ids);
          let best = 0;
          for (let v = 1; v < logits.length; v++) if ((logits[v] ?? 0) > (logits[best] ?? 0)) best = v;
          state = { ids: [...state.ids, best], steps: [] };
        }
        rates.push(100 / ((performance.now() - t) / 1000));
      }
      const msPerToken = rates.map((r) => 1000 / r);
      record(`generate 100 tokens, ${name} (2 thread)`, msPerToken, `ms per token; ${Math.round(median(rates))} tokens/s`);
    }
    await cachedModel.release();
    // A comparison step of 4 columns: one batched pass vs four passes one after the other.
    for (const n of [16, 64]) {
      const rows = Array.from({ length: 4 }, (_, r) => Array.from({ length: n }, (_, i) => (i * 7 + r) % 1000));
      await model.forwardBatch(rows);
      const batched: number[] = [];
      const sequential: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        batched.push((await model.forwardBatch(rows)).forwardMs);
        let total = 0;
        for (const row of rows) total += (await model.forwardBatch([row])).forwardMs;
        sequential.push(total);
      }
      record(`4 columns at ${n} tokens, one batched pass (2 thread)`, batched);
      record(`4 columns at ${n} tokens, one pass each (2 thread)`, sequential);
    }
  }
  await model.release();
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

/** `npm run bench -- notebooks engine`: only the sections named; none named: all of them. */
const SECTIONS: Record<string, () => Promise<void> | void> = {
  notebooks: notebookListing,
  cli: cliPredict,
  engine: async () => {
    await engine(1);
    await engine(2);
  },
};
const wanted = process.argv.slice(2);
for (const name of wanted) if (!(name in SECTIONS)) throw new Error(`no bench section "${name}": the sections are ${Object.keys(SECTIONS).join(', ')}`);
for (const [name, run] of Object.entries(SECTIONS)) if (wanted.length === 0 || wanted.includes(name)) await run();
const out = join(ROOT, 'bench-results.json');
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, rows }, null, 2) + '\n');
console.log(`\nwrote ${out}`);
