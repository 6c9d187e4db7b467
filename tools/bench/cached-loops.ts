/**
 * Timed loops of one-token steps on a key/value cache, after a prompt whose own pass is not timed:
 * a bare session fed and fetched by hand, the engine's `nextLogits`, and whole `generationStep`s.
 * Each returns milliseconds a step. Shared by the step bench (`step-bench.ts`, tokens/s) and
 * `--gen-profile` (`gen-profile.ts`, wall and CPU time a step).
 */
import type * as Ort from 'onnxruntime-web';
import { generationStep, type GenerationState } from '../../src/engine/generate';
import type { OnnxModel, OrtModule } from '../../src/engine/session';

export interface CachedLoops {
  /** A session of a cache graph (the file's, or the engine's own with its `ntl_logit_rows`), run by hand. */
  bare(session: Ort.InferenceSession): () => Promise<number>;
  nextLogits(): Promise<number>;
  generate(sampling: Parameters<typeof generationStep>[2]): () => Promise<number>;
}

/** `started` is called as each loop's timed steps begin (after its prompt). */
export function cachedLoops(ort: OrtModule, model: OnnxModel, prompt: readonly number[], steps: number, started: () => void = () => undefined): CachedLoops {
  const vocab = model.tokenizer.info.vocabSize;
  const int64 = (xs: number[]): Ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(xs, BigInt), [1, xs.length]);
  const timed = async (step: (k: number) => Promise<unknown>): Promise<number> => {
    const t = performance.now();
    started();
    for (let k = 0; k < steps; k++) await step(k);
    return (performance.now() - t) / steps;
  };
  let round = 0;
  return {
    bare: (session) => async () => {
      const has = (name: string): boolean => session.inputNames.includes(name);
      const feedsFor = (ids: number[], length: number): Record<string, Ort.Tensor> => ({
        input_ids: int64(ids),
        ...(has('attention_mask') ? { attention_mask: int64(Array<number>(length).fill(1)) } : {}),
        ...(has('position_ids') ? { position_ids: int64(ids.map((_, i) => length - ids.length + i)) } : {}),
        ...(has('ntl_logit_rows') ? { ntl_logit_rows: new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length - 1)), [1]) } : {}),
      });
      const past = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
      const empty = new ort.Tensor('float32', new Float32Array(0), [1, model.config.kvHeads, 0, model.config.headDim]);
      let out = await session.run({ ...feedsFor([...prompt], prompt.length), ...Object.fromEntries(past.map((n) => [n, empty])) });
      return timed(async (k) => {
        const feeds = feedsFor([(k * 31 + 5) % vocab], prompt.length + k + 1);
        for (const n of past) feeds[n] = out[n.replace('past_key_values.', 'present.')] as Ort.Tensor;
        out = await session.run(feeds);
      });
    },
    // The prompt's pass and its first token are not timed: every timed step runs one token on the
    // cache (a step fed the same sequence again would recompute the whole prompt, as the bare loop never does).
    nextLogits: async () => {
      const ids = prompt.map((x) => (x + round++) % vocab);
      await model.nextLogits(ids);
      ids.push(vocab - 1);
      return timed(async (k) => {
        await model.nextLogits(ids);
        ids.push((k * 31 + 5) % vocab);
      });
    },
    generate: (sampling) => async () => {
      let state: GenerationState = { ids: prompt.map((x) => (x + round++) % vocab), steps: [], rngState: round, stopReason: null };
      state = await generationStep(model, state, sampling);
      return timed(async () => {
        state = await generationStep(model, state, sampling);
      });
    },
  };
}
