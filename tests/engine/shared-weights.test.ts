import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate';
import { logitLens } from '../../src/engine/logit-lens';
import { OnnxModel, type ForwardResult, type OrtModule } from '../../src/engine/session';
import { loadOrt } from '../../src/node/ort-runtime';
import { tempDir } from '../node/helpers';
import { BUNDLED_ON_BOTH_BACKENDS, loadBundled, SEED_WORLD, TINY_SHAKESPEARE } from './load-model';
import { maxAbsDiff } from './reference-checks';
import { ortWithoutEmptyPast } from './no-empty-past';

/**
 * Issue 18 (memory): a model that comes as two files (model.onnx and decoder_with_past.onnx) runs on
 * its with-past graph alone, an empty past for a whole prompt, so its weights are held once. Every
 * number equals a session per file (the reference, `shareWeights: false`), bit for bit, and the model
 * keeps model.onnx's names for what it shows.
 */

const PROMPT = 'She rowed her boat down the river to the bank. At the bank she';

/** Every array of two forward results, equal bit for bit. */
function expectSameForward(a: ForwardResult, b: ForwardResult): void {
  expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBe(0);
  expect(a.attention?.layers).toBeGreaterThan(0);
  expect(a.attention?.layers).toBe(b.attention?.layers);
  a.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, b.attention?.data[l] ?? [])).toBe(0));
  a.attention?.values?.data.forEach((v, l) => expect(maxAbsDiff(v, b.attention?.values?.data[l] ?? [])).toBe(0));
  expect(a.attention?.values?.data.length).toBe(b.attention?.values?.data.length);
  expect(a.residual?.length).toBeGreaterThan(0);
  a.residual?.forEach((r, l) => expect(maxAbsDiff(r, b.residual?.[l] ?? [])).toBe(0));
  a.residualMid?.forEach((r, l) => expect(maxAbsDiff(r, b.residualMid?.[l] ?? [])).toBe(0));
  for (const part of ['token', 'position', 'sum'] as const) expect(a.embeddings[part]).toEqual(b.embeddings[part]);
}

describe.each(BUNDLED_ON_BOTH_BACKENDS)('%s on %s: one session for model.onnx and decoder_with_past.onnx', (id, dir, backend) => {
  let shared: OnnxModel;
  let perFile: OnnxModel;
  beforeAll(async () => {
    const ort = await loadOrt(backend);
    const runtime = { backend, threads: 1 };
    shared = await loadBundled(dir, { ort, runtime });
    perFile = await loadBundled(dir, { ort, runtime: { ...runtime, shareWeights: false } });
  });
  afterAll(async () => {
    await shared.release();
    await perFile.release();
  });

  it('runs the with-past graph for everything, and says which file runs', () => {
    expect(shared.cacheShared).toBe(true);
    expect(shared.sessionNote).toBeNull();
    expect(shared.file).toBe(`${id}/onnx/decoder_with_past.onnx`);
    expect(shared.cacheFile).toBe(`${id}/onnx/decoder_with_past.onnx`);
    expect(perFile.cacheShared).toBe(false);
    expect(perFile.file).toBe(`${id}/onnx/model.onnx`);
    expect(perFile.sessionNote).toBe('the weights are held twice (one session per file): a session per file was asked for');
  });

  it("keeps model.onnx's names for its probes and tables", () => {
    expect(shared.plan.probes).toEqual(perFile.plan.probes);
    expect(shared.probes('attention').map((p) => p.node)).toEqual(Array.from({ length: shared.config.layers }, (_, l) => `/h.${l}/attn/Softmax`));
    expect(shared.embeddingTables()).toEqual(perFile.embeddingTables());
    expect(shared.positions(16)).toEqual(perFile.positions(16));
    expect(shared.capabilities).toEqual(perFile.capabilities);
    expect(shared.precision).toBe(perFile.precision);
  });

  it('computes what a session per file computes: forward, logit lens, interventions, position logits, batches', async () => {
    const ids = shared.tokenizer.encode(PROMPT);
    const [a, b] = [await shared.forward(ids), await perFile.forward(ids)];
    expectSameForward(a, b);
    const lens = shared.plan.lens;
    if ('unavailable' in lens || 'unavailable' in perFile.plan.lens) throw new Error('no logit lens');
    expect(logitLens(lens, a.residual ?? [], ids.length)).toEqual(logitLens(perFile.plan.lens, b.residual ?? [], ids.length));
    const edit = { ablateHeads: [{ layer: 1, head: 2 }], removeKeys: [{ query: ids.length - 1, key: 2 }] };
    expectSameForward(await shared.forwardEdited(ids, edit), await perFile.forwardEdited(ids, edit));
    const [pa, pb] = [await shared.positionLogits(ids), await perFile.positionLogits(ids)];
    expect(maxAbsDiff(pa.logits, pb.logits)).toBe(0);
    const rows = [ids.slice(0, 6), ids.slice(3, 9)];
    const [ba, bb] = [await shared.forwardBatch(rows), await perFile.forwardBatch(rows)];
    ba.lastLogits.forEach((l, r) => expect(maxAbsDiff(l, bb.lastLogits[r] ?? [])).toBe(0));
  });

  it('gives the same cached steps and seeded tokens', async () => {
    const ids = shared.tokenizer.encode(PROMPT);
    // Prefixes only: the whole prompt's logits the shared model kept from its forward pass (forward-keeps-cache.test.ts).
    for (let n = 3; n < ids.length; n += 3) expect(maxAbsDiff(await shared.nextLogits(ids.slice(0, n)), await perFile.nextLogits(ids.slice(0, n)))).toBe(0);
    const rows = [ids.slice(0, 5), ids.slice(2, 7)];
    for (let step = 0; step < 3; step++) {
      const [a, b] = [await shared.nextLogitsBatch(rows), await perFile.nextLogitsBatch(rows)];
      a.lastLogits.forEach((l, r) => expect(maxAbsDiff(l, b.lastLogits[r] ?? [])).toBe(0));
      rows.forEach((row, r) => row.push(r + step + 5));
    }
    const start = shared.tokenizer.encode('The cat sat on the');
    for (const strategy of [{ strategy: 'greedy' }, { strategy: 'top-p', temperature: 0.9, topP: 0.9 }] as const) {
      const [a, b] = [await generate(shared, start, { strategy, seed: 5, maxTokens: 24 }), await generate(perFile, start, { strategy, seed: 5, maxTokens: 24 })];
      expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
      expect(a.steps.map((s) => s.prob)).toEqual(b.steps.map((s) => s.prob));
    }
  });
});

const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

describe('where the with-past graph cannot stand in for model.onnx, each file gets its session and the model says why', () => {
  const files = (withPast: string) => ({
    id: 'seed-world',
    config: json(join(SEED_WORLD, 'config.json')),
    tokenizer: json(join(SEED_WORLD, 'tokenizer.json')),
    tokenizerConfig: json(join(SEED_WORLD, 'tokenizer_config.json')),
    onnx: bytes(join(SEED_WORLD, 'onnx/model.onnx')),
    onnxWithPast: bytes(withPast),
  });

  /**
   * Loads seed-world with `withPast` beside its model.onnx: the model says `reason`, runs model.onnx,
   * and computes what model.onnx alone computes; `more` checks the rest.
   */
  async function expectFallback(withPast: string, reason: string, more: (model: OnnxModel, alone: OnnxModel) => Promise<void> = async () => undefined, ort: OrtModule = ortWeb): Promise<void> {
    const [model, alone] = [await OnnxModel.load(ort, files(withPast), { backend: 'wasm', threads: 1 }), await loadBundled(SEED_WORLD, { cache: false })];
    try {
      expect(model.sessionNote).toBe(`the weights are held twice (one session per file): ${reason}`);
      expect(model.file).toBe('seed-world/onnx/model.onnx');
      const ids = model.tokenizer.encode(PROMPT);
      expectSameForward(await model.forward(ids), await alone.forward(ids));
      await more(model, alone);
    } finally {
      await model.release();
      await alone.release();
    }
  }

  it("another model's with-past file: model.onnx runs, its numbers unchanged", async () => {
    await expectFallback(join(TINY_SHAKESPEARE, 'onnx/decoder_with_past.onnx'), 'seed-world/onnx/model.onnx shows 16 tensors, seed-world/onnx/decoder_with_past.onnx 24', async (mixed) => {
      expect(mixed.hasCache).toBe(false);
      expect(mixed.cacheNote).toMatch(/has a cache for 5 layers, the model 3/);
    });
  });

  it.each(['first', 'middle', 'last'] as const)('a with-past file of the same shapes whose weight differs in its %s byte: model.onnx runs, its numbers unchanged', async (where) => {
    const model = onnxProto.onnx.ModelProto.decode(bytes(join(SEED_WORLD, 'onnx/decoder_with_past.onnx')));
    const table = model.graph?.initializer?.find((t) => (t.dims ?? []).length === 2 && (t.rawData?.length ?? 0) > 0);
    if (!table?.rawData) throw new Error('no 2-D weight');
    const changed = { first: 0, middle: Math.floor(table.rawData.length / 2), last: table.rawData.length - 1 }[where];
    table.rawData = Uint8Array.from(table.rawData, (b, i) => (i === changed ? b ^ 1 : b));
    const dir = await tempDir(`other-weights-${where}`);
    writeFileSync(join(dir, 'decoder_with_past.onnx'), onnxProto.onnx.ModelProto.encode(model).finish());
    await expectFallback(join(dir, 'decoder_with_past.onnx'), 'seed-world/onnx/model.onnx and seed-world/onnx/decoder_with_past.onnx hold different weights');
  });

  it('a backend that cannot run an empty past: model.onnx runs whole sequences, its numbers unchanged', async () => {
    const reason = 'seed-world/onnx/decoder_with_past.onnx could not run in place of seed-world/onnx/model.onnx: zero-length tensor';
    await expectFallback(
      join(SEED_WORLD, 'onnx/decoder_with_past.onnx'),
      reason,
      async (refused, alone) => {
        // Its first cached pass has an empty past too: the cache is dropped with the reason, and steps recompute.
        const ids = refused.tokenizer.encode(PROMPT);
        expect(maxAbsDiff(await refused.nextLogits(ids), (await alone.forward(ids, false)).lastLogits)).toBe(0);
        expect(refused.hasCache).toBe(false);
        expect(refused.cacheNote).toMatch(/failed on wasm: zero-length tensor/);
      },
      ortWithoutEmptyPast,
    );
  });
});
