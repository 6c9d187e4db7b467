import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forkState, topAlternatives, type StepDetail } from '../../src/engine/compare-step';
import { rankOrder } from '../../src/engine/sampling/distribution';
import type { GenerationStep } from '../../src/engine/generate';

const piece = (id: number): { text: string; display: string } => ({ text: ` t${id}`, display: `␣t${id}` });

describe('the alternatives of a comparison step', () => {
  it('lists the most likely tokens, their fate in the chain, and their rank', () => {
    const probs = Float64Array.from([0.1, 0.5, 0.05, 0.3, 0.05]);
    const filtered = Float64Array.from([0, 0.625, 0, 0.375, 0]);
    const top = topAlternatives({ probs, filtered, id: 3 }, piece, 3);
    expect(top.map((a) => a.id)).toEqual([1, 3, 0]);
    expect(top.map((a) => a.rank)).toEqual([1, 2, 3]);
    expect(top.map((a) => a.kept)).toEqual([true, true, false]);
    expect(top[1]).toEqual({ id: 3, token: ' t3', display: '␣t3', prob: 0.3, filtered: 0.375, rank: 2, kept: true });
  });

  it('adds the chosen token when it was drawn from below the top n (ties: lower id first)', () => {
    const probs = Float64Array.from([0.4, 0.4, 0.15, 0.05]);
    const filtered = Float64Array.from([0.4, 0.4, 0.15, 0.05]);
    const top = topAlternatives({ probs, filtered, id: 3 }, piece, 2);
    expect(top.map((a) => [a.id, a.rank])).toEqual([
      [0, 1],
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('the alternatives without sorting the vocabulary', () => {
  it('are the first n of the full rank order, ranks included, with ties and the chosen token anywhere', () => {
    const probsArb = fc.array(fc.oneof(fc.constant(0), fc.constant(0.125), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 400 }).map((a) => Float64Array.from(a));
    fc.assert(
      fc.property(probsArb, fc.nat(), fc.integer({ min: 1, max: 12 }), (probs, pick, n) => {
        const id = pick % probs.length;
        const order = rankOrder(probs);
        const ids = order.slice(0, n);
        if (!ids.includes(id)) ids.push(id);
        const top = topAlternatives({ probs, filtered: probs, id }, piece, n);
        expect(top.map((a) => [a.id, a.rank])).toEqual(ids.map((i) => [i, order.indexOf(i) + 1]));
      }),
      { numRuns: 300 },
    );
  });
});

describe('forking a column', () => {
  const step = (id: number, prob: number): GenerationStep => ({ id, token: ` t${id}`, display: `␣t${id}`, prob, rank: 1, kept: 5, entropy: id / 10 });
  const steps = [step(7, 0.9), step(8, 0.6), step(9, 0.5)];
  const detail = (rngState: number): StepDetail => ({ alternatives: [], rngState, mu: null, ms: 3 });
  const details = [detail(101), detail(202), detail(303)];

  it('keeps the tokens before the step, takes the clicked token, and resumes the generator after the step', () => {
    const alternative = { id: 4, token: ' t4', display: '␣t4', prob: 0.2, filtered: 0.25, rank: 2, kept: true };
    const fork = forkState([1, 2], steps, details, 1, alternative);
    expect(fork.state.ids).toEqual([1, 2, 7, 4]);
    expect(fork.state.steps.map((s) => s.id)).toEqual([7, 4]);
    expect(fork.state.steps[1]).toEqual({ id: 4, token: ' t4', display: '␣t4', prob: 0.2, rank: 2, kept: 5, entropy: 0.8 });
    expect(fork.state.rngState).toBe(202);
    expect(fork.state.stopReason).toBeNull();
    expect(fork.details.map((d) => d.rngState)).toEqual([101, 202]);
    // The original is left as it was.
    expect(steps.map((s) => s.id)).toEqual([7, 8, 9]);
  });

  it('refuses a step that was not generated', () => {
    const alternative = { id: 4, token: ' t4', display: '␣t4', prob: 0.2, filtered: 0, rank: 2, kept: false };
    expect(() => forkState([1], steps, details, 3, alternative)).toThrow('there is no step 4 to fork from');
  });
});
