import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '../../src/engine/session';
import { supportedViews } from '../../src/engine/supported-views';
import {
  expectReferenceAttention,
  expectReferenceLens,
  expectReferenceLogits,
  expectReferenceResidual,
  loadFixtureModel,
  maxAbsDiff,
  referenceOf,
} from './fixture-models';

const reference = referenceOf('gpt-decomposed-ln');
let model: OnnxModel;
beforeAll(async () => {
  model = await loadFixtureModel('gpt-decomposed-ln');
});
afterAll(async () => {
  await model.release();
});

describe('a GPT-2 style graph with LayerNorm spelled out (ReduceMean, Sub, Pow, Sqrt, Div)', () => {
  it('recognises the decomposed norms as the block boundaries and reads the final one for the lens', () => {
    expect(model.plan.opTypes).not.toContain('LayerNormalization');
    expect(model.probes('residual').map((p) => p.node)).toEqual(['/h.0/ln_1/Sub', '/h.1/ln_1/Sub', '/ln_f/Sub']);
    expect(model.probes('attention')).toHaveLength(2);
    expect(model.plan.positions).toBe('learned');
    const lens = model.plan.lens;
    if ('unavailable' in lens) throw new Error(lens.unavailable);
    expect(lens.norm).toBe('layer');
    expect(lens.beta).not.toBeNull();
    expect(lens.epsilon).toBeCloseTo(1e-5, 10);
    for (const v of Object.values(supportedViews(model.plan))) expect(v).toEqual({ ok: true });
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('matches PyTorch logits for %j', async (_, ref) => {
    await expectReferenceLogits(model, ref);
  });

  it('matches PyTorch attention and the residual stream; embeddings add up', async () => {
    const ref = reference.prompts[0];
    if (!ref?.attention || !ref.residual) throw new Error('reference lacks attention or residual');
    const result = await model.forward(ref.ids);
    expectReferenceAttention(result.attention?.data ?? [], ref.attention, ref.ids.length);
    expectReferenceResidual(result.residual, ref.residual);
    const { token, position, sum } = result.embeddings;
    expect(maxAbsDiff(sum ?? [], (token ?? []).map((v, i) => v + (position?.[i] ?? NaN)))).toBeLessThan(1e-6);
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('gives PyTorch\'s logit-lens top-1 for %j', async (_, ref) => {
    await expectReferenceLens(model, ref);
  });
});
