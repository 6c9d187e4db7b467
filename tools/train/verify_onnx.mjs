// Runs resources/models/<id>/onnx/model.onnx in onnxruntime-web (the app's runtime) under Node
// and compares every logit with the PyTorch values written by train.py (tools/train/.work/onnx_check.json),
// and the top-10 with tests/fixtures/<id>-reference.json.
//
//   node tools/train/verify_onnx.mjs [modelId]
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

const id = process.argv[2] ?? 'seed-world';
const TOL = 1e-4;
ort.env.wasm.numThreads = 1;
const bytes = readFileSync(`resources/models/${id}/onnx/model.onnx`);
const session = await ort.InferenceSession.create(bytes);
console.log(`inputs ${session.inputNames} outputs ${session.outputNames}`);
let checks = [];
try {
  checks = JSON.parse(readFileSync('tools/train/.work/onnx_check.json', 'utf8'));
} catch {
  console.log('no tools/train/.work/onnx_check.json (run train.py first); checking the fixture only');
}
const reference = JSON.parse(readFileSync(`tests/fixtures/${id}-reference.json`, 'utf8'));

async function logits(ids) {
  const input = new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
  const out = await session.run({ input_ids: input });
  return out.logits; // [1, n, vocab]
}

let worst = 0;
let failures = 0;
for (const c of checks) {
  const t = await logits(c.ids);
  const [, n, v] = t.dims;
  let maxDiff = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < v; j++) {
    maxDiff = Math.max(maxDiff, Math.abs(t.data[i * v + j] - c.logits[i][j]));
  }
  worst = Math.max(worst, maxDiff);
  if (maxDiff > TOL) failures++;
  console.log(`${maxDiff <= TOL ? 'ok  ' : 'FAIL'} max |onnx - torch| = ${maxDiff.toExponential(2)} over ${n}x${v} logits  ${JSON.stringify(c.prompt)}`);
}
for (const p of reference.prompts) {
  const t = await logits(p.ids);
  const [, n, v] = t.dims;
  const last = t.data.subarray((n - 1) * v, n * v);
  const order = Array.from(last.keys()).sort((a, b) => last[b] - last[a]).slice(0, 10);
  const same = order.every((x, i) => x === p.top[i].id || Math.abs(last[x] - p.top[i].logit) < TOL);
  const diff = Math.max(...p.top.map((e) => Math.abs(last[e.id] - e.logit)));
  if (!same || diff > TOL) failures++;
  console.log(`${same && diff <= TOL ? 'ok  ' : 'FAIL'} top-10 fixture ${JSON.stringify(p.prompt)} -> ${JSON.stringify(p.top[0].token)} (max diff ${diff.toExponential(2)})`);
}
// batch of 2 (dynamic batch axis)
const two = reference.prompts[0].ids;
const tb = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from([...two, ...two].map(BigInt)), [2, two.length]) });
console.log(`batch 2 output dims ${tb.logits.dims}`);
// attention: a copy of the graph with every Softmax as an extra output (written by train.py)
try {
  const dbg = await ort.InferenceSession.create(readFileSync('tools/train/.work/model_with_attention.onnx'));
  const d = reference.details;
  const out = await dbg.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(d.ids.map(BigInt)), [1, d.ids.length]) });
  const names = dbg.outputNames.filter((n) => n.endsWith('/Softmax_output_0'));
  let attDiff = 0;
  names.forEach((name, layer) => {
    const t = out[name];
    if (t.dims.length !== 4) { failures++; console.log(`FAIL ${name} has rank ${t.dims.length}`); }
    const [, H, Q, K] = t.dims;
    for (let h = 0; h < H; h++) for (let q = 0; q < Q; q++) for (let k = 0; k < K; k++) {
      attDiff = Math.max(attDiff, Math.abs(t.data[(h * Q + q) * K + k] - d.attention[layer][h][q][k]));
    }
    console.log(`softmax ${name} dims [${t.dims}]`);
  });
  if (names.length !== d.attention.length || attDiff > TOL) failures++;
  console.log(`${attDiff <= TOL ? 'ok  ' : 'FAIL'} attention of ${names.length} layers vs fixture: max diff ${attDiff.toExponential(2)}`);
} catch (e) {
  console.log(`attention check skipped: ${e.message}`);
}
console.log(`worst logit difference ${worst.toExponential(2)} (tolerance ${TOL}); ${failures} failures`);
process.exit(failures ? 1 : 0);
