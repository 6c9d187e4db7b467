import { appendFileSync, copyFileSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/engine/byte-source';
import { decodeModel } from '../../src/engine/onnx-decode';
import { OnnxModel } from '../../src/engine/session';
import { MIN_REFERRED_BYTES, referWeights } from '../../src/engine/weight-refs';
import { fileSource, graphWithoutWeights } from '../../src/node/file-source';
import { readModelFiles } from '../../src/node/model-folder-files';
import { ModelRegistry } from '../../src/node/model-registry';
import { loadOrt } from '../../src/node/ort-runtime';
import { tempDir } from '../node/helpers';
import { loadBundled, ROOT, SEED_WORLD } from './load-model';
import { maxAbsDiff } from './reference-checks';

/**
 * Issue 18 (memory): the graph refers to its weights in its own file, so ONNX Runtime reads them into
 * its tensors without parsing a copy of the file, and on native the host never reads them.
 */
const file = join(SEED_WORLD, 'onnx/model.onnx');
const bytes = new Uint8Array(readFileSync(file));

describe('weights referred to in their own file', () => {
  it('refers every large initializer to its own bytes in the file, and decodes to the same graph and weights', () => {
    const referred = referWeights(memorySource(bytes), 'model.onnx');
    if (!referred) throw new Error('seed-world has inline weights');
    expect(referred.byteLength).toBeLessThan(bytes.byteLength / 10);
    const [whole, lean] = [decodeModel(bytes), decodeModel(referred, 'model.onnx', new Map([['model.onnx', bytes]]))];
    expect(lean.externalFiles).toEqual(['model.onnx']);
    expect([...lean.initializerDims]).toEqual([...whole.initializerDims]);
    expect(lean.nodes).toEqual(whole.nodes);
    let large = 0;
    for (const [name, dims] of whole.initializerDims) {
      const [a, b] = [lean.initializerFloats(name), whole.initializerFloats(name)];
      expect(a?.length, name).toBe(b?.length);
      if (a && b) expect(maxAbsDiff(a, b), name).toBe(0);
      if (dims.reduce((a, b) => a * b, 4) >= MIN_REFERRED_BYTES) large++;
    }
    expect(large).toBeGreaterThan(10);
    // The same from the file on disk, read by offset.
    expect(Buffer.from(graphWithoutWeights(file, 'seed-world/onnx/model.onnx')?.graph ?? []).equals(referred)).toBe(true);
    // A graph that refers to its weights already has none to move.
    expect(referWeights(memorySource(referred), 'model.onnx')).toBeNull();
  });

  it('gives onnxruntime-web the same logits from the referring graph with the file as its external data', async () => {
    const referred = referWeights(memorySource(bytes), 'model.onnx') ?? new Uint8Array();
    const [plain, lean] = [await ort.InferenceSession.create(bytes), await ort.InferenceSession.create(referred, { externalData: [{ path: 'model.onnx', data: bytes }] })];
    try {
      const ids = [5, 17, 42, 8, 99];
      const feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) };
      const [a, b] = [await plain.run(feeds), await lean.run(feeds)];
      expect(maxAbsDiff(a['logits']?.data as Float32Array, b['logits']?.data as Float32Array)).toBe(0);
    } finally {
      await plain.release();
      await lean.release();
    }
  });

  it.each(['native', 'wasm'] as const)('on %s, a model read without its weights computes what one given the whole files computes: forward, attention, cached steps', async (backend) => {
    const runtimeOrt = await loadOrt(backend);
    const info = await new ModelRegistry([{ dir: join(ROOT, 'resources/models'), source: 'bundled' }]).resolve('seed-world');
    const files = await readModelFiles(info, { weightsOnDisk: true });
    expect(files.onnx.byteLength).toBeLessThan(bytes.byteLength / 10);
    expect(files.onnxWithPast?.byteLength).toBeLessThan(bytes.byteLength / 10);
    const runtime = { backend, threads: 1 };
    const [lean, whole] = [await OnnxModel.load(runtimeOrt, files, runtime), await loadBundled(undefined, { ort: runtimeOrt, runtime })];
    try {
      expect(lean.hasCache).toBe(true);
      const ids = lean.tokenizer.encode('She rowed her boat down the river to the bank. At the bank she');
      const [a, b] = [await lean.forward(ids), await whole.forward(ids)];
      expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBe(0);
      a.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, b.attention?.data[l] ?? [])).toBe(0));
      expect(a.attention?.layers).toBeGreaterThan(0);
      for (let n = 4; n <= ids.length; n += 4) expect(maxAbsDiff(await lean.nextLogits(ids.slice(0, n)), await whole.nextLogits(ids.slice(0, n)))).toBe(0);
      expect(lean.embeddingTables().token).toEqual(whole.embeddingTables().token);
    } finally {
      await lean.release();
      await whole.release();
    }
  });

  it('refuses a file that changed on disk since it was first read, naming it and both sizes', async () => {
    const copy = join(await tempDir('weight-refs'), 'model.onnx');
    copyFileSync(file, copy);
    const source = fileSource(copy, 'seed-world/onnx/model.onnx');
    expect(source.read(0, 16)).toEqual(bytes.subarray(0, 16));
    appendFileSync(copy, new Uint8Array(8));
    expect(() => source.read(bytes.byteLength - 4000, 4000)).toThrow(`seed-world/onnx/model.onnx changed on disk while it was read (${bytes.byteLength} bytes, now ${bytes.byteLength + 8}); load the model again`);
  });

  it('refuses a file written again at the same size (other weights at the same offsets)', async () => {
    const copy = join(await tempDir('weight-refs'), 'model.onnx');
    copyFileSync(file, copy);
    const source = fileSource(copy, 'seed-world/onnx/model.onnx');
    expect(source.read(0, 16)).toEqual(bytes.subarray(0, 16));
    const later = new Date(statSync(copy).mtimeMs + 5000);
    writeFileSync(copy, bytes.map((b, i) => (i >= bytes.byteLength - 4000 ? b ^ 1 : b)));
    utimesSync(copy, later, later);
    expect(() => source.read(bytes.byteLength - 4000, 4000)).toThrow(/seed-world\/onnx\/model\.onnx changed on disk while it was read \(written again at .*\); load the model again/);
  });
});
