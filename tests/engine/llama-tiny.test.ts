import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lensLogits } from '../../src/engine/logit-lens';
import { headCounts } from '../../src/engine/onnx-graph';
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

const reference = referenceOf('llama-tiny');
let model: OnnxModel;
beforeAll(async () => {
  model = await loadFixtureModel('llama-tiny');
});
afterAll(async () => {
  await model.release();
});

describe('a Llama-architecture graph (RMSNorm, rotary positions, grouped-query attention)', () => {
  it('finds a Softmax per layer, the residual stream at every block boundary, and rotary positions', () => {
    const { plan } = model;
    expect(model.probes('attention').map((p) => p.node)).toEqual(['/layers.0/self_attn/Softmax', '/layers.1/self_attn/Softmax']);
    expect(model.probes('residual').map((p) => p.layer)).toEqual([0, 1, 2]);
    expect(model.probes('residual').map((p) => p.node)).toEqual(['/layers.0/input_layernorm/Pow', '/layers.1/input_layernorm/Pow', '/norm/Pow']);
    expect(model.probes('token-embedding')).toHaveLength(1);
    expect(model.probes('position-embedding')).toHaveLength(0);
    expect(plan.positions).toBe('rotary');
    expect(plan.rotary).toEqual({ cos: '/rotary/Cos_output_0', sin: '/rotary/Sin_output_0' });
    expect(plan.attention).toMatchObject({ source: 'softmax', layers: 2, queryWidth: 32, keyWidth: 16 });
    expect(headCounts(plan, { heads: 4, kvHeads: 4 })).toEqual({ heads: 4, kvHeads: 2 });
    const lens = plan.lens;
    if ('unavailable' in lens) throw new Error(lens.unavailable);
    expect(lens).toMatchObject({ norm: 'rms', beta: null, bias: null, hidden: 32, vocab: 320 });
    expect(lens.epsilon).toBeCloseTo(1e-5, 10);
  });

  it('supports every view, saying that positions are rotary and heads are grouped', () => {
    const views = supportedViews(model.plan);
    for (const v of Object.values(views)) expect(v.ok).toBe(true);
    expect(views.embeddings).toMatchObject({ ok: true, note: expect.stringContaining('rotary') });
    expect(views.attention).toMatchObject({ ok: true, note: expect.stringContaining('shared by 2 query heads') });
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('matches PyTorch logits for %j', async (_, ref) => {
    await expectReferenceLogits(model, ref);
  });

  it('matches PyTorch attention per query head (causal, rows sum to 1) and the residual stream', async () => {
    const ref = reference.prompts[0];
    if (!ref?.attention || !ref.residual) throw new Error('reference lacks attention or residual');
    const result = await model.forward(ref.ids);
    expect(result.attention).toMatchObject({ layers: 2, heads: 4, kvHeads: 2 });
    expectReferenceAttention(result.attention?.data ?? [], ref.attention, ref.ids.length);
    expectReferenceResidual(result.residual, ref.residual);
    expect(result.embeddings.token).not.toBeNull();
    expect(result.embeddings.position).toBeNull();
    // The stream entering block 0 is the token embedding itself: no positions are added to it.
    expect(maxAbsDiff(result.residual?.[0] ?? [], result.embeddings.token ?? [])).toBe(0);
  });

  it.each(reference.prompts.map((p) => [p.prompt, p] as const))('gives PyTorch\'s logit-lens top-1 for %j', async (_, ref) => {
    await expectReferenceLens(model, ref);
  });

  it('at the final norm the lens (RMSNorm, untied head) reproduces the logits', async () => {
    const ids = reference.prompts[1]?.ids ?? [];
    const result = await model.forward(ids);
    const lens = model.plan.lens;
    if ('unavailable' in lens) throw new Error(lens.unavailable);
    const h = lens.hidden;
    const last = result.residual?.at(-1) ?? new Float32Array();
    expect(maxAbsDiff(lensLogits(lens, last.subarray((ids.length - 1) * h, ids.length * h)), result.lastLogits)).toBeLessThan(1e-4);
  });
});
