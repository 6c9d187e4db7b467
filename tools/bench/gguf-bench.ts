/**
 * GGUF on llama.cpp next to ONNX Runtime on the same weights: seed-world's committed GGUF files
 * (tools/train/export_gguf.py, F32 and Q8_0) against its ONNX float32 graph on onnxruntime-node
 * (native) and onnxruntime-web (wasm), each on 1 and 2 threads. Load: reading the file to the first
 * distribution. Decode: greedy tokens on the key/value cache, one token per step, as Generate runs.
 */
import { join } from 'node:path';
import { loadBundled } from '../../tests/engine/load-model';
import type { EngineModel } from '../../src/engine/contract';
import { GgufModel } from '../../src/node/gguf-model';
import { loadNativeOrt } from '../../src/node/ort-runtime';
import { median } from './engine-bench';

export interface GgufBenchRow {
  engine: string;
  threads: number;
  load_ms: number;
  decode_tokens_per_s: number;
}

const PROMPT = 'The sun rises in the';
const DECODE_TOKENS = 48;

async function decode(model: EngineModel, prompt: readonly number[]): Promise<number> {
  const ids = [...prompt];
  await model.nextLogits(ids);
  const started = performance.now();
  for (let i = 0; i < DECODE_TOKENS; i++) {
    const logits = await model.nextLogits(ids);
    let best = 0;
    for (let t = 1; t < logits.length; t++) if ((logits[t] ?? -Infinity) > (logits[best] ?? -Infinity)) best = t;
    ids.push(best);
  }
  return (DECODE_TOKENS / (performance.now() - started)) * 1000;
}

export async function ggufBench(root: string, runs: number): Promise<GgufBenchRow[]> {
  const seedWorld = join(root, 'resources/models/seed-world');
  const gguf = join(root, 'tests/fixtures/gguf');
  const native = await loadNativeOrt();
  const engines: { name: string; load: (threads: number) => Promise<EngineModel> }[] = [
    { name: 'GGUF F32 (llama.cpp)', load: (threads) => GgufModel.load(join(gguf, 'seed-world-f32.gguf'), { threads }) },
    { name: 'GGUF Q8_0 (llama.cpp)', load: (threads) => GgufModel.load(join(gguf, 'seed-world-q8_0.gguf'), { threads }) },
    { name: 'ONNX float32 (native)', load: (threads) => loadBundled(seedWorld, { ort: native, runtime: { backend: 'native', threads } }) },
    { name: 'ONNX float32 (wasm)', load: (threads) => loadBundled(seedWorld, { runtime: { backend: 'wasm', threads } }) },
  ];
  const rows: GgufBenchRow[] = [];
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
        speeds.push(await decode(model, prompt));
        await model.release();
      }
      const row = { engine: engine.name, threads, load_ms: Math.round(median(loads) * 10) / 10, decode_tokens_per_s: Math.round(median(speeds) * 10) / 10 };
      rows.push(row);
      console.log(`seed-world ${row.engine.padEnd(24)} ${threads}T  load ${row.load_ms.toFixed(1).padStart(8)} ms  decode ${row.decode_tokens_per_s.toFixed(1).padStart(8)} tokens/s`);
    }
  }
  return rows;
}
