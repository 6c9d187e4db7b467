/**
 * `npm run bench -- memory` (issue 18): a model's peak memory on each backend, each in a process of
 * its own, loaded as `ntl` loads it (the graphs read without their weights), then a one-token warm-up
 * pass and 4 cached steps after a 16-token prompt, as `ntl generate --max-tokens 4` runs. The peak is
 * the process's maximum RSS, which the machine's load does not move.
 * Run by bench.ts as `node bin/bench.mjs --memory <model folder> wasm|native <threads>`; prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OnnxModel } from '../../src/engine/session';
import { loadOrt } from '../../src/node/ort-runtime';
import { readFiles, type Measure } from './engine-bench';

const peakMb = (): number => process.resourceUsage().maxRSS / 1024;

export async function runMemory(dir: string, backend: 'wasm' | 'native', threads: number): Promise<Measure[]> {
  const ort = await loadOrt(backend);
  const model = await OnnxModel.load(ort, readFiles(dir), { backend, threads });
  const note = model.sessionNote ?? (model.cacheShared ? 'one session: the cache graph runs everything' : 'no key/value cache graph beside the model');
  const loaded = peakMb();
  await model.forward([0], false);
  const vocab = model.tokenizer.info.vocabSize;
  const seq = Array.from({ length: 16 }, (_, i) => (i * 7919 + 13) % vocab);
  for (let step = 0; step < 4; step++) {
    const logits = await model.nextLogits(seq);
    seq.push(logits.indexOf(Math.max(...logits)));
  }
  await model.release();
  return [
    { metric: `peak memory after loading, ${backend}`, unit: 'MB', value: loaded, note },
    { metric: `peak memory after 4 cached steps, ${backend}`, unit: 'MB', value: peakMb() },
  ];
}

/** The section: each backend's peaks for `model` in a child process, printed, with the ≤ 1,500 MB target. */
export function memorySection(root: string, dir: string, model: string, targets: { target: string; met: boolean | null; figure: string }[]): Measure[] {
  const threads = Number(process.env['BENCH_MEMORY_THREADS'] ?? 1);
  const rows: Measure[] = [];
  const before = targets.length;
  console.log(`\nPeak memory (${model}, ${threads} thread${threads === 1 ? '' : 's'}, a process per backend: load, warm-up pass, 4 cached steps):`);
  for (const backend of ['native', 'wasm'] as const) {
    const r = spawnSync(process.execPath, [join(root, 'bin/bench.mjs'), '--memory', dir, backend, String(threads)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !last.startsWith('[')) throw new Error(`the memory bench failed on ${backend}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const measures = JSON.parse(last) as Measure[];
    for (const m of measures) console.log(`  ${m.metric.padEnd(48)} ${m.value.toFixed(0).padStart(7)} ${m.unit}${m.note ? `  (${m.note})` : ''}`);
    const peak = measures.at(-1)?.value ?? NaN;
    targets.push({ target: `${model}: peak memory on ${backend} ≤ 1,500 MB`, met: peak <= 1500, figure: `${peak.toFixed(0)} MB` });
    rows.push(...measures);
  }
  console.log("\nIssue 18's targets:");
  for (const t of targets.slice(before)) console.log(`  ${t.met ? 'met   ' : 'missed'}  ${t.target}: ${t.figure}`);
  return rows;
}
