import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheGraphOnLastRow } from '../../src/engine/head-rows';
import { decodeModel } from '../../src/engine/onnx-decode';
import { addGraphOutputs, addLogitRows, headIsPositionWise, LOGIT_ROWS_INPUT } from '../../src/engine/onnx-edit';
import { planGraph } from '../../src/engine/onnx-graph';
import type { OnnxModel } from '../../src/engine/session';
import { loadBundled, SEED_WORLD } from './load-model';

/**
 * The head (final norm and unembedding) on the positions a pass reads: the last one for predict
 * and generation, every one for prompt surprisal. Issue 18: the unembedding of positions nobody reads
 * was a third of GPT-2 small's forward pass.
 */
const bytes = new Uint8Array(readFileSync(join(SEED_WORLD, 'onnx/model.onnx')));
const plan = planGraph(decodeModel(bytes, 'model.onnx'), 'model.onnx');
const stream = plan.probes.filter((p) => p.role === 'residual').at(-1)?.tensor ?? '';
const ids = [5, 17, 42, 7, 99, 3, 250, 11];
const int64 = (xs: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(xs, BigInt), [1, xs.length]);

describe('addLogitRows', () => {
  it('gathers the stream entering the final norm, and the logits come out for the rows fed, equal to the whole pass', async () => {
    expect(stream).not.toBe('');
    const edited = addLogitRows(bytes, stream, [stream]);
    const graph = decodeModel(edited, 'model.onnx');
    expect(graph.inputs.map((i) => i.name)).toContain(LOGIT_ROWS_INPUT);
    const gather = graph.nodes.find((n) => n.opType === 'Gather' && n.inputs[1] === LOGIT_ROWS_INPUT);
    expect(gather?.inputs[0]).toBe(stream);
    // Only the gather reads the stream now; the stream stays an output (the residual view reads it).
    expect(graph.nodes.filter((n) => n.inputs.includes(stream))).toEqual([gather]);
    const whole = await ort.InferenceSession.create(addGraphOutputs(bytes, [stream]));
    const rows = await ort.InferenceSession.create(edited);
    const feeds = { input_ids: int64(ids), attention_mask: int64(ids.map(() => 1)) };
    const wanted = (s: ort.InferenceSession): Record<string, ort.Tensor> => Object.fromEntries(Object.entries(feeds).filter(([k]) => s.inputNames.includes(k)));
    const all = await whole.run(wanted(whole));
    const last = await rows.run({ ...wanted(rows), [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length - 1)), [1]) });
    const vocab = all['logits']?.dims.at(-1) ?? 0;
    expect(last['logits']?.dims).toEqual([1, 1, vocab]);
    expect(Array.from(last['logits']?.data as Float32Array)).toEqual(Array.from((all['logits']?.data as Float32Array).subarray((ids.length - 1) * vocab)));
    expect(last[stream]?.dims).toEqual([1, ids.length, all[stream]?.dims.at(-1)]);
    await whole.release();
    await rows.release();
  });

  it('keeps the head of a graph whose head quantizes dynamically (a scale from every position) as it is', () => {
    const graph = decodeModel(bytes, 'model.onnx');
    expect(headIsPositionWise(graph.nodes, stream, 'logits')).toBe(true);
    const node = (opType: string, inputs: string[], outputs: string[]): (typeof graph.nodes)[number] => ({ name: opType, opType, domain: '', inputs, outputs, attributes: {} });
    const quantized = [node('LayerNormalization', ['x', 'g', 'b'], ['n']), node('DynamicQuantizeLinear', ['n'], ['q', 's', 'z']), node('MatMulInteger', ['q', 'w', 'z', 'wz'], ['i']), node('Cast', ['i'], ['logits'])];
    expect(headIsPositionWise(quantized, 'x', 'logits')).toBe(false);
    expect(headIsPositionWise(quantized.slice(0, 1), 'x', 'logits')).toBe(false);
    expect(headIsPositionWise([node('LayerNormalization', ['x', 'g', 'b'], ['n']), node('MatMul', ['n', 'w'], ['logits'])], 'x', 'logits')).toBe(true);
  });

  it('refuses a tensor no node reads, naming it', () => {
    expect(() => addLogitRows(bytes, 'no-such-tensor', [], 'seed-world/onnx/model.onnx')).toThrow('seed-world/onnx/model.onnx: no node reads "no-such-tensor"');
  });
});

describe('the cache graph (decoder_with_past.onnx) with its head on the last row', () => {
  it('gives the last row of the file as it is on a prompt with an empty past', async () => {
    const file = new Uint8Array(readFileSync(join(SEED_WORLD, 'onnx/decoder_with_past.onnx')));
    const edited = cacheGraphOnLastRow(file, 'decoder_with_past.onnx');
    expect(edited).not.toBeNull();
    const [plain, rows] = [await ort.InferenceSession.create(file), await ort.InferenceSession.create(edited ?? file)];
    expect(rows.inputNames).toContain(LOGIT_ROWS_INPUT);
    const config = JSON.parse(readFileSync(join(SEED_WORLD, 'config.json'), 'utf8')) as { n_head: number; n_embd: number };
    const empty = new ort.Tensor('float32', new Float32Array(0), [1, config.n_head, 0, config.n_embd / config.n_head]);
    const feeds = (s: ort.InferenceSession): Record<string, ort.Tensor> => {
      const f: Record<string, ort.Tensor> = {};
      for (const name of s.inputNames) {
        if (name === 'input_ids') f[name] = int64(ids);
        else if (name === 'attention_mask') f[name] = int64(ids.map(() => 1));
        else if (name === 'position_ids') f[name] = int64(ids.map((_, i) => i));
        else if (name === LOGIT_ROWS_INPUT) f[name] = new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length - 1)), [1]);
        else f[name] = empty;
      }
      return f;
    };
    const [all, last] = [await plain.run(feeds(plain)), await rows.run(feeds(rows))];
    const vocab = all['logits']?.dims.at(-1) ?? 0;
    expect(last['logits']?.dims).toEqual([1, 1, vocab]);
    expect(Array.from(last['logits']?.data as Float32Array)).toEqual(Array.from((all['logits']?.data as Float32Array).subarray((ids.length - 1) * vocab)));
    await plain.release();
    await rows.release();
  });
});

describe('the engine with the head on chosen positions (seed-world)', () => {
  let model: OnnxModel;
  beforeAll(async () => {
    model = await loadBundled();
  });
  afterAll(async () => {
    await model.release();
  });

  it('predict reads the last row, surprisal every row, and they agree', async () => {
    const forward = await model.forward(ids);
    const plain = await model.forward(ids, false);
    const every = await model.positionLogits(ids);
    expect(every.logits.length).toBe(ids.length * every.vocab);
    const lastRow = every.logits.subarray((ids.length - 1) * every.vocab);
    expect(Array.from(plain.lastLogits)).toEqual(Array.from(lastRow));
    expect(Array.from(forward.lastLogits)).toEqual(Array.from(lastRow));
    // A middle row is a real prediction, not a copy of the last one.
    expect(Array.from(every.logits.subarray(0, every.vocab))).not.toEqual(Array.from(lastRow));
  });
});
