import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lensLogits, logitLens } from '../../src/engine/logit-lens';
import { softmax } from '../../src/engine/sampling/distribution';
import type { OnnxModel } from '../../src/engine/session';
import { loadBundled } from './load-model';

let model: OnnxModel;
beforeAll(async () => {
  model = await loadBundled();
});
afterAll(async () => {
  await model.release();
});

describe('residual stream and logit lens on seed-world', () => {
  it('finds the stream entering every block and the final norm', () => {
    const residual = model.probes('residual');
    expect(residual.map((p) => p.layer)).toEqual(Array.from({ length: model.config.layers + 1 }, (_, i) => i));
    expect('unavailable' in model.plan.lens).toBe(false);
  });

  it('at the final norm the lens reproduces the model\'s own logits', async () => {
    const ids = model.tokenizer.encode('The sun rises in the');
    const result = await model.forward(ids);
    const streams = result.residual ?? [];
    expect(streams).toHaveLength(model.config.layers + 1);
    const lens = model.plan.lens;
    if ('unavailable' in lens) throw new Error(lens.unavailable);
    const last = streams.at(-1) ?? new Float32Array();
    const h = model.config.hidden;
    const logits = lensLogits(lens, last.subarray((ids.length - 1) * h, ids.length * h));
    let worst = 0;
    for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs((logits[i] ?? 0) - (result.lastLogits[i] ?? 0)));
    expect(worst).toBeLessThan(1e-3);
    const cells = logitLens(lens, streams, ids.length);
    const final = cells.at(-1)?.at(-1);
    const probs = softmax(result.lastLogits);
    expect(model.tokenizer.piece(final?.id ?? -1).text).toBe(' east');
    expect(Math.abs((final?.prob ?? 0) - (probs[final?.id ?? 0] ?? 0))).toBeLessThan(1e-4);
    for (const row of cells) for (const c of row) expect(c.prob).toBeGreaterThan(0);
  });
});
