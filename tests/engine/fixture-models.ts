import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { expect } from 'vitest';
import { logitLens } from '../../src/engine/logit-lens';
import { topK } from '../../src/engine/sampling/distribution';
import { OnnxModel } from '../../src/engine/session';
import { fixture, ROOT } from './load-model';

/** PyTorch's values for a fixture model (tools/fixtures/build_*_fixture.py). */
export interface FixtureReference {
  model: string;
  prompts: {
    prompt: string;
    ids: number[];
    top: { id: number; token: string; logit: number; prob: number }[];
    /** Top-1 of the final norm and unembedding applied to each residual-stream boundary: [boundary][position]. */
    lens_top1: number[][];
    /** [layer][head][query][key], for the first prompt of models whose attention is observable. */
    attention?: number[][][][];
    /** [boundary][position][hidden]: the stream entering each block and the final norm, for the first prompt. */
    residual?: number[][][];
  }[];
}

const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** Loads tests/fixtures/models/<name> with the engine on onnxruntime-web's Node build. */
export async function loadFixtureModel(name: string): Promise<OnnxModel> {
  const dir = join(ROOT, 'tests/fixtures/models', name);
  return OnnxModel.load(
    ort,
    {
      id: name,
      config: json(join(dir, 'config.json')),
      tokenizer: json(join(dir, 'tokenizer.json')),
      tokenizerConfig: json(join(dir, 'tokenizer_config.json')),
      onnx: new Uint8Array(readFileSync(join(dir, 'onnx/model.onnx'))),
    },
    { backend: 'wasm', threads: 1 },
  );
}

export const referenceOf = (name: string): FixtureReference => fixture<FixtureReference>(`${name}-reference.json`);

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) m = Math.max(m, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return m;
};

/** The engine's top-k at the last position equals PyTorch's: same ids in order, logits within 1e-4. */
export async function expectReferenceLogits(model: OnnxModel, ref: FixtureReference['prompts'][number]): Promise<void> {
  expect(model.tokenizer.encode(ref.prompt)).toEqual(ref.ids);
  const result = await model.forward(ref.ids);
  const top = topK(result.lastLogits, ref.top.length);
  expect(top.map((t) => t.id)).toEqual(ref.top.map((t) => t.id));
  top.forEach((t, i) => expect(Math.abs(t.logit - (ref.top[i]?.logit ?? NaN))).toBeLessThan(1e-4));
}

/** The logit lens over the probed residual stream gives PyTorch's top-1 at every boundary and position. */
export async function expectReferenceLens(model: OnnxModel, ref: FixtureReference['prompts'][number]): Promise<void> {
  const lens = model.plan.lens;
  if ('unavailable' in lens) throw new Error(lens.unavailable);
  const result = await model.forward(ref.ids);
  const cells = logitLens(lens, result.residual ?? [], ref.ids.length);
  expect(cells.map((row) => row.map((c) => c.id))).toEqual(ref.lens_top1);
}

/** The residual stream read from the graph equals PyTorch's within 1e-4 at every block boundary. */
export function expectReferenceResidual(streams: Float32Array[] | null, want: number[][][]): void {
  expect(streams).toHaveLength(want.length);
  want.forEach((boundary, b) => expect(maxAbsDiff(streams?.[b] ?? [], boundary.flat()), `boundary ${b}`).toBeLessThan(1e-4));
}

/** Attention per layer equals PyTorch's within 1e-4; every row is causal and sums to 1. */
export function expectReferenceAttention(data: Float32Array[], want: number[][][][], n: number): void {
  expect(data).toHaveLength(want.length);
  want.forEach((heads, layer) => {
    const got = data[layer] ?? new Float32Array();
    expect(got.length).toBe(heads.length * n * n);
    heads.forEach((rows, h) =>
      rows.forEach((row, q) => {
        const r = got.subarray((h * n + q) * n, (h * n + q + 1) * n);
        expect(maxAbsDiff(r, row), `layer ${layer} head ${h} query ${q}`).toBeLessThan(1e-4);
        expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        for (let k = q + 1; k < n; k++) expect(r[k]).toBe(0);
      }),
    );
  });
}
