import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '../../src/engine/session';
import { supportedViews } from '../../src/engine/supported-views';
import { expectReferenceLens, expectReferenceLogits, loadFixtureModel, referenceOf } from './fixture-models';

const reference = referenceOf('gpt-fused-attention');
let model: OnnxModel;
beforeAll(async () => {
  model = await loadFixtureModel('gpt-fused-attention');
});
afterAll(async () => {
  await model.release();
});

describe('a graph whose attention is fused into com.microsoft Attention operators', () => {
  it('runs, and says plainly that attention weights cannot be shown', async () => {
    expect(model.plan.fusedAttention).toEqual(['com.microsoft.Attention']);
    expect(model.plan.attention).toMatchObject({ source: 'fused', layers: 2, heads: 4 });
    expect(model.probes('attention')).toEqual([]);
    const views = supportedViews(model.plan);
    expect(views.attention).toEqual({
      ok: false,
      reason: 'attention is fused into com.microsoft.Attention; its weights are never materialised, so they cannot be shown',
    });
    expect(views.residual.ok && views.logitLens.ok && views.embeddings.ok).toBe(true);
    const result = await model.forward(reference.prompts[0]?.ids ?? []);
    expect(result.attention).toBeNull();
    expect(result.attentionNote).toContain('com.microsoft.Attention');
    expect(result.residual).toHaveLength(3);
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('matches PyTorch logits for %j', async (_, ref) => {
    await expectReferenceLogits(model, ref);
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('finds the blocks through the fused operators: lens top-1 for %j', async (_, ref) => {
    await expectReferenceLens(model, ref);
  });
});
