import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareStep, compareStepBatch, type BatchItem } from '../../src/engine/compare-step';
import type { GenerationState } from '../../src/engine/generate';
import { SeededRandom } from '../../src/engine/rng';
import type { OnnxModel } from '../../src/engine/session';
import type { SamplingStrategy } from '../../src/common/sampling-strategy';
import { loadBundled } from './load-model';

let model: OnnxModel;
beforeAll(async () => {
  model = await loadBundled();
});
afterAll(async () => {
  await model.release();
});

const start = (ids: number[], seed: number): GenerationState => ({ ids, steps: [], rngState: new SeededRandom(seed).snapshot, stopReason: null });

describe('batched comparison steps on seed-world', () => {
  it('one batched pass gives each row the logits of its own forward pass', async () => {
    const rows = ['The sun rises in the', 'The cat sat on the', 'She took her money to'].map((p) => model.tokenizer.encode(p));
    const n = Math.min(...rows.map((r) => r.length));
    const equal = rows.map((r) => r.slice(0, n));
    expect(model.isBatchable).toBe(true);
    const { lastLogits } = await model.forwardBatch(equal);
    for (const [i, row] of equal.entries()) {
      const alone = (await model.forward(row, false)).lastLogits;
      let worst = 0;
      for (let v = 0; v < alone.length; v++) worst = Math.max(worst, Math.abs((lastLogits[i]?.[v] ?? 0) - (alone[v] ?? 0)));
      expect(worst).toBeLessThan(1e-4);
    }
    await expect(model.forwardBatch([[1, 2], [1]])).rejects.toThrow('equal length');
  });

  it('columns stepped together choose exactly the tokens they choose one at a time', async () => {
    const ids = model.tokenizer.encode('The cat sat on the');
    const columns: SamplingStrategy[] = [
      { strategy: 'greedy' },
      { strategy: 'top-k', temperature: 0.8, topK: 5 },
      { strategy: 'top-p', temperature: 1.2, topP: 0.9 },
      { strategy: 'temperature', temperature: 1.5 },
    ];
    let together: BatchItem[] = columns.map((sampling, i) => ({ state: start(ids, 40 + i), sampling }));
    let alone = columns.map((sampling, i) => ({ state: start(ids, 40 + i), sampling }));
    for (let step = 0; step < 8; step++) {
      const next = await compareStepBatch(model, together);
      together = together.map((item, i) => ({ ...item, state: next[i]?.state ?? item.state }));
      const nextAlone = [];
      for (const item of alone) nextAlone.push({ ...item, state: (await compareStep(model, item.state, item.sampling)).state });
      alone = nextAlone;
    }
    together.forEach((item, i) => {
      expect(item.state.steps.map((s) => s.id)).toEqual(alone[i]?.state.steps.map((s) => s.id));
      expect(item.state.rngState).toBe(alone[i]?.state.rngState);
    });
    // A fork that is behind (a shorter sequence) steps in a group of its own.
    const mixed = await compareStepBatch(model, [together[0] ?? { state: start(ids, 1), sampling: { strategy: 'greedy' } }, { state: start(ids, 1), sampling: { strategy: 'greedy' } }]);
    expect(mixed[1]?.state.steps[0]?.id).toBe(together[0]?.state.steps[0]?.id);
  });
});
