import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '../../src/engine/session';
import { supportedViews } from '../../src/engine/supported-views';
import { expectReferenceLens, expectReferenceLogits, loadFixtureModel, maxAbsDiff, referenceOf } from './fixture-models';

const reference = referenceOf('gpt-fused-attention');
let model: OnnxModel;
beforeAll(async () => {
  model = await loadFixtureModel('gpt-fused-attention');
});
afterAll(async () => {
  await model.release();
});

describe('a graph whose attention is fused into com.microsoft Attention operators', () => {
  it('recomputes the weights from the operator\'s QKV weights: PyTorch\'s attention within 1e-5, and says how', async () => {
    expect(model.plan.fusedAttention).toEqual(['com.microsoft.Attention']);
    expect(model.plan.attention).toMatchObject({ source: 'fused', layers: 2, heads: 4 });
    expect(model.probes('attention')).toHaveLength(2);
    const views = supportedViews(model.plan);
    expect(views.attention).toEqual({ ok: true, note: "attention weights recomputed from Attention's Q and K (the fused operator never outputs them)" });
    expect(views.residual.ok && views.logitLens.ok && views.embeddings.ok).toBe(true);
    const ref = reference.prompts[0];
    const result = await model.forward(ref?.ids ?? []);
    expect(result.attentionNote).toBeNull();
    expect(result.attention).toMatchObject({ layers: 2, heads: 4, kvHeads: 4 });
    expect(result.attention?.values).toMatchObject({ heads: 4, headDim: 8 });
    result.attention?.data.forEach((layer, l) => expect(maxAbsDiff(layer, ref?.attention?.[l]?.flat(2) ?? [])).toBeLessThan(1e-5));
    expect(result.residual).toHaveLength(3);
  });

  it('switches a head off: its weights zero, the logits changed', async () => {
    const ids = reference.prompts[1]?.ids ?? [];
    const edited = await model.forwardEdited(ids, { ablateHeads: [{ layer: 1, head: 2 }] });
    const n = ids.length;
    expect(edited.attention?.data[1]?.subarray(2 * n * n, 3 * n * n).every((p) => p === 0)).toBe(true);
    expect(maxAbsDiff(edited.lastLogits, (await model.forward(ids)).lastLogits)).toBeGreaterThan(1e-3);
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('matches PyTorch logits for %j', async (_, ref) => {
    await expectReferenceLogits(model, ref);
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('finds the blocks through the fused operators: lens top-1 for %j', async (_, ref) => {
    await expectReferenceLens(model, ref);
  });
});
