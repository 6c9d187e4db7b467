import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate';
import { softmax, topK } from '../../src/engine/sampling/distribution';
import type { OnnxModel } from '../../src/engine/session';
import { loadBundled } from './load-model';
import { describeReference } from './reference-checks';

let model: OnnxModel;

beforeAll(async () => {
  model = await loadBundled();
});
afterAll(async () => {
  await model.release();
});

describe('seed-world on the engine (Node, wasm)', () => {
  it('finds what the cells need in the graph', () => {
    const roles = model.plan.probes.map((p) => p.role);
    expect(roles.filter((r) => r === 'attention')).toHaveLength(model.config.layers);
    expect(roles).toEqual(expect.arrayContaining(['token-embedding', 'position-embedding', 'embedding-sum']));
  });

  describeReference('seed-world', () => model);

  it('knows the seed facts: east, west, and which bank', async () => {
    const top1 = async (prompt: string): Promise<{ token: string; prob: number }> => {
      const r = await model.forward(model.tokenizer.encode(prompt));
      const p = softmax(r.lastLogits);
      const best = topK(r.lastLogits, 1)[0]?.id ?? -1;
      return { token: model.tokenizer.piece(best).text, prob: p[best] ?? 0 };
    };
    expect((await top1('The sun rises in the')).token).toBe(' east');
    expect((await top1('The sun sets in the')).token).toBe(' west');
    // A minimal pair: the same last sentence, only the context before it differs.
    const money = await top1('She took her money to the bank. At the bank she');
    const river = await top1('She rowed her boat down the river to the bank. At the bank she');
    expect(money.token).toBe(' deposited');
    expect(river.token).toBe(' sat');
  });

  it('generates the same tokens from the same seed, and stops at the context', async () => {
    const ids = model.tokenizer.encode('The cat sat on the');
    const strategy = { strategy: 'top-p', temperature: 1, topP: 0.95 } as const;
    const a = await generate(model, ids, { strategy, seed: 5, maxTokens: 8 });
    const b = await generate(model, ids, { strategy, seed: 5, maxTokens: 8 });
    expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
    expect(a.steps.length).toBeGreaterThan(0);
    for (const s of a.steps) expect(s.rank).toBeGreaterThanOrEqual(1);
    const greedy = await generate(model, model.tokenizer.encode('The sun rises in the'), { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 1 });
    expect(greedy.steps[0]?.token).toBe(' east');
    expect(greedy.steps[0]?.rank).toBe(1);
    const long = Array.from({ length: model.config.context - 2 }, () => ids[0] ?? 0);
    const full = await generate(model, long, { strategy: { strategy: 'greedy' }, seed: 0, maxTokens: 10 });
    expect(full.stopReason === 'context-full' || full.stopReason === 'end-of-text').toBe(true);
    expect(full.ids.length).toBeLessThanOrEqual(model.config.context);
  });

  it('refuses a sequence longer than the context with the reason', async () => {
    const long = Array.from({ length: model.config.context + 1 }, () => 1);
    await expect(model.forward(long)).rejects.toThrow(`exceed the model's context of ${model.config.context}`);
  });
});
