import type * as Ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate';
import type { OnnxModel } from '../../src/engine/session';
import { loadOrt } from '../../src/node/ort-runtime';
import { BUNDLED_ON_BOTH_BACKENDS, loadBundled } from './load-model';
import { maxAbsDiff } from './reference-checks';

/**
 * A whole prompt's pass on the session generation shares (a model of two files, held once) keeps its
 * presents and last logits: generating from that prompt next (Run all's Predict, then Sample) runs no
 * pass for it again, and every token and probability is what it was without the pass before.
 */

const PROMPT = 'She rowed her boat down the river to the bank. At the bank she';

/** Counts the passes of a model's session (its private field, reached for the test alone). */
function countRuns(model: OnnxModel): { runs: number } {
  const session = Reflect.get(model, 'session') as Ort.InferenceSession;
  const counter = { runs: 0 };
  const run = session.run.bind(session);
  session.run = ((...args: Parameters<typeof run>) => {
    counter.runs += 1;
    return run(...args);
  }) as typeof session.run;
  return counter;
}

describe.each(BUNDLED_ON_BOTH_BACKENDS)('%s on %s: Predict, then Sample', (_id, dir, backend) => {
  let predicted: OnnxModel;
  let fresh: OnnxModel;
  let perFile: OnnxModel;
  beforeAll(async () => {
    const ort = await loadOrt(backend);
    predicted = await loadBundled(dir, { ort, runtime: { backend, threads: 1 } });
    fresh = await loadBundled(dir, { ort, runtime: { backend, threads: 1 } });
    perFile = await loadBundled(dir, { ort, runtime: { backend, threads: 1, shareWeights: false } });
  });
  afterAll(async () => {
    await predicted.release();
    await fresh.release();
    await perFile.release();
  });

  it("the prompt's next-token logits come from the pass before, bit for bit, without running it again", async () => {
    const ids = predicted.tokenizer.encode(PROMPT);
    const forward = await predicted.forward(ids);
    const counter = countRuns(predicted);
    const next = await predicted.nextLogits(ids);
    expect(counter.runs).toBe(0);
    expect(maxAbsDiff(next, forward.lastLogits)).toBe(0);
    expect(maxAbsDiff(next, await fresh.nextLogits(ids))).toBe(0);
    // The next step continues the kept presents: one pass, one token.
    await predicted.nextLogits([...ids, 1]);
    expect(counter.runs).toBe(1);
  });

  it('a seeded generation after the pass gives the same tokens and probabilities as one without it', async () => {
    const start = predicted.tokenizer.encode('The cat sat on the');
    await predicted.forward(start, false);
    for (const strategy of [{ strategy: 'greedy' }, { strategy: 'top-p', temperature: 0.9, topP: 0.9 }] as const) {
      const [a, b] = [await generate(predicted, start, { strategy, seed: 5, maxTokens: 16 }), await generate(fresh, start, { strategy, seed: 5, maxTokens: 16 })];
      expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
      expect(a.steps.map((s) => s.prob)).toEqual(b.steps.map((s) => s.prob));
    }
  });

  it('a model holding a session per file keeps nothing from its instrumented pass: the cache graph runs the prompt', async () => {
    const ids = perFile.tokenizer.encode(PROMPT);
    const forward = await perFile.forward(ids);
    const next = await perFile.nextLogits(ids);
    expect(maxAbsDiff(next, forward.lastLogits)).toBeLessThan(1e-4);
  });
});
