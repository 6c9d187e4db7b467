import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareStep, forkState, type StepDetail } from '../../src/engine/compare-step';
import { generate, type GenerationState } from '../../src/engine/generate';
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

const PROMPT = 'The cat sat on the';
const TOP_K: SamplingStrategy = { strategy: 'top-k', temperature: 0.8, topK: 5 };

async function stepped(ids: number[], strategy: SamplingStrategy, seed: number, n: number): Promise<{ state: GenerationState; details: StepDetail[] }> {
  let state: GenerationState = { ids, steps: [], rngState: new SeededRandom(seed).snapshot, stopReason: null };
  const details: StepDetail[] = [];
  for (let i = 0; i < n; i++) {
    const r = await compareStep(model, state, strategy);
    state = r.state;
    if (r.detail) details.push(r.detail);
  }
  return { state, details };
}

describe('comparison steps on seed-world', () => {
  it('step by step give the tokens of generate, with top-10 alternatives marked kept or cut', async () => {
    const ids = model.tokenizer.encode(PROMPT);
    const whole = await generate(model, ids, { strategy: TOP_K, seed: 42, maxTokens: 6 });
    const { state, details } = await stepped(ids, TOP_K, 42, 6);
    expect(state.steps.map((s) => s.id)).toEqual(whole.steps.map((s) => s.id));
    expect(state.rngState).toBe(whole.rngState);
    for (const [i, d] of details.entries()) {
      expect(d.alternatives.length).toBeGreaterThanOrEqual(10);
      // top-k with k = 5: the five most likely are kept, the rest cut.
      expect(d.alternatives.slice(0, 10).map((a) => a.kept)).toEqual([true, true, true, true, true, false, false, false, false, false]);
      expect(d.alternatives.find((a) => a.id === state.steps[i]?.id)?.kept).toBe(true);
      expect(d.alternatives.slice(0, 5).reduce((sum, a) => sum + a.filtered, 0)).toBeCloseTo(1, 9);
    }
  });

  it('a fork at step 2 keeps step 1, takes the other token, and goes on from the same generator state', async () => {
    const ids = model.tokenizer.encode(PROMPT);
    const original = await stepped(ids, TOP_K, 42, 3);
    const alternative = original.details[1]?.alternatives.find((a) => a.id !== original.state.steps[1]?.id);
    if (!alternative) throw new Error('no alternative');
    const fork = forkState(ids, original.state.steps, original.details, 1, alternative);
    const next = await compareStep(model, fork.state, TOP_K);
    expect(next.state.steps.map((s) => s.id).slice(0, 2)).toEqual([original.state.steps[0]?.id, alternative.id]);
    expect(next.state.ids.slice(0, ids.length)).toEqual(ids);
    expect(next.state.steps).toHaveLength(3);
  });
});
