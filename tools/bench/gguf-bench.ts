/**
 * GGUF on llama.cpp next to ONNX Runtime on the same weights: seed-world's committed GGUF files
 * (tools/train/export_gguf.py, F32 and Q8_0) against its ONNX float32 graph on onnxruntime-node
 * (native) and onnxruntime-web (wasm), each on 1 and 2 threads; and the GPT-2-small-shaped model of
 * the engine section (.cache/bench/gpt2-small, where it has been built) exported the same way into
 * .cache/bench/gpt2-small-gguf. Load: reading the file to the first distribution. Decode: greedy
 * tokens on the key/value cache, one token per step, as Generate runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundled } from '../../tests/engine/load-model';
import type { EngineModel } from '../../src/engine/contract';
import { GgufModel } from '../../src/node/gguf-model';
import { loadNativeOrt } from '../../src/node/ort-runtime';
import { median } from './engine-bench';

export interface GgufBenchRow {
  model: string;
  engine: string;
  threads: number;
  load_ms: number;
  decode_tokens_per_s: number;
}

const PROMPT = 'The sun rises in the';

async function decode(model: EngineModel, prompt: readonly number[], tokens: number): Promise<number> {
  const ids = [...prompt];
  await model.nextLogits(ids);
  const started = performance.now();
  for (let i = 0; i < tokens; i++) {
    const logits = await model.nextLogits(ids);
    let best = 0;
    for (let t = 1; t < logits.length; t++) if ((logits[t] ?? -Infinity) > (logits[best] ?? -Infinity)) best = t;
    ids.push(best);
  }
  return (tokens / (performance.now() - started)) * 1000;
}

interface BenchModel {
  name: string;
  onnx: string;
  f32: string;
  q8: string;
  tokens: number;
  /** The wasm engine is left out of the large model: minutes per run here. */
  wasm: boolean;
}

/** The GPT-2-small-shaped model's GGUF files, exported once from its ONNX folder; null where that folder has not been built. */
function gpt2Small(root: string): BenchModel | null {
  const onnx = join(root, '.cache/bench/gpt2-small');
  if (!existsSync(join(onnx, 'onnx/model.onnx'))) return null;
  const out = join(root, '.cache/bench/gpt2-small-gguf');
  const f32 = join(out, 'gpt2-small-f32.gguf');
  const q8 = join(out, 'gpt2-small-q8_0.gguf');
  if (!existsSync(f32) || !existsSync(q8)) {
    const run = spawnSync('/usr/bin/python3', [join(root, 'tools/train/export_gguf.py'), '--out', out, onnx], { stdio: 'inherit' });
    if (run.status !== 0) return null;
  }
  return { name: 'gpt2-small', onnx, f32, q8, tokens: 16, wasm: false };
}

export async function ggufBench(root: string, runs: number): Promise<GgufBenchRow[]> {
  const gguf = join(root, 'tests/fixtures/gguf');
  const models: BenchModel[] = [
    { name: 'seed-world', onnx: join(root, 'resources/models/seed-world'), f32: join(gguf, 'seed-world-f32.gguf'), q8: join(gguf, 'seed-world-q8_0.gguf'), tokens: 48, wasm: true },
    ...[gpt2Small(root)].filter((m): m is BenchModel => m !== null),
  ];
  const native = await loadNativeOrt();
  const rows: GgufBenchRow[] = [];
  for (const m of models) {
    const engines: { name: string; load: (threads: number) => Promise<EngineModel> }[] = [
      { name: 'GGUF F32 (llama.cpp)', load: (threads) => GgufModel.load(m.f32, { threads }) },
      { name: 'GGUF Q8_0 (llama.cpp)', load: (threads) => GgufModel.load(m.q8, { threads }) },
      { name: 'ONNX float32 (native)', load: (threads) => loadBundled(m.onnx, { ort: native, runtime: { backend: 'native', threads } }) },
      ...(m.wasm ? [{ name: 'ONNX float32 (wasm)', load: (threads: number) => loadBundled(m.onnx, { runtime: { backend: 'wasm', threads } }) }] : []),
    ];
    for (const threads of [1, 2]) {
      for (const engine of engines) {
        const loads: number[] = [];
        const speeds: number[] = [];
        for (let run = 0; run < runs; run++) {
          const started = performance.now();
          const model = await engine.load(threads);
          const prompt = model.tokenizer.encode(PROMPT);
          await model.nextLogits(prompt);
          loads.push(performance.now() - started);
          speeds.push(await decode(model, prompt, m.tokens));
          await model.release();
        }
        const row = { model: m.name, engine: engine.name, threads, load_ms: Math.round(median(loads) * 10) / 10, decode_tokens_per_s: Math.round(median(speeds) * 10) / 10 };
        rows.push(row);
        console.log(`${m.name.padEnd(11)} ${row.engine.padEnd(24)} ${threads}T  load ${row.load_ms.toFixed(1).padStart(8)} ms  decode ${row.decode_tokens_per_s.toFixed(1).padStart(8)} tokens/s`);
      }
    }
  }
  return rows;
}
