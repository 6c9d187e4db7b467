// Bare onnxruntime-node sessions of the GPT-2-small-shaped model's cache graphs, float32 and its
// variants, timed in turns (rounds of 16 cached steps after a 128-token prefill, median of 5 rounds):
// what ONNX Runtime's kernels give without the engine. From the repository root:
//   node tools/bench/bare-cache-graphs.mjs 1 .cache/bench/gpt2-small/onnx/decoder_with_past{,_quantized,_q4,_q4_acc4,_fp16}.onnx
// The first file is the baseline. Not run by npm run bench (its paired rows do the same per variant).
import ort from 'onnxruntime-node';
const [threads, ...files] = process.argv.slice(2);
const sessions = [];
for (const f of files) sessions.push(await ort.InferenceSession.create(f, { graphOptimizationLevel: 'all', intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential' }));
const ids = (n, o = 0) => new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919 + o + 13) % 50257)), [1, n]);
async function rate(s) {
  const past = s.inputNames.filter((n) => n.startsWith('past_'));
  let out = await s.run({ input_ids: ids(128), ...Object.fromEntries(past.map((n) => [n, (s.inputMetadata?.find?.((x) => x.name === n)?.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), [1, 12, 0, 64]) : new ort.Tensor('float32', new Float32Array(0), [1, 12, 0, 64]))])) });
  const t = performance.now();
  for (let k = 0; k < 16; k++) {
    const feeds = { input_ids: ids(1, k) };
    past.forEach((n) => { feeds[n] = out[n.replace('past_key_values', 'present')]; });
    out = await s.run(feeds);
  }
  return 16000 / (performance.now() - t);
}
const r = files.map(() => []);
for (let round = 0; round < 5; round++) for (let i = 0; i < files.length; i++) r[i].push(await rate(sessions[i]));
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
files.forEach((f, i) => console.log(f.split('/').pop(), `${threads}T`, med(r[i]).toFixed(1), 'tok/s', (med(r[i]) / med(r[0])).toFixed(2) + '× float32'));
