import { softmax, topK } from './sampling/distribution';
import type { OnnxModel } from './session';

/** What running a model once showed: the views that produced numbers and whether the cache agrees. */
export interface VerifyReport {
  /** The file run, as the engine named it. */
  file: string;
  tokens: number;
  /** Views that gave numbers in this run (attention, embeddings, residual). */
  worked: string[];
  kvCache: boolean;
  kvCacheNote: string | null;
  /** Largest difference between a cached step's probabilities and recomputing the sequence. */
  cacheMaxProbDiff: number | null;
  ms: number;
}

/** A short prompt every tokenizer encodes to a few tokens. */
const PROMPT = 'The sun rises in the';
/** Cached steps compared with recomputation. */
const STEPS = 2;
/**
 * How far a cached step may be from recomputing the whole sequence, in probability: float32 agrees
 * within 1e-5, half precision and dynamic quantization (which scales each pass's activations as a
 * whole) within about 1e-2; a cache graph whose shapes or weights do not match the main graph is far off.
 */
const CACHE_TOLERANCE = 5e-2;

const finite = (values: ArrayLike<number>): boolean => {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
};

/**
 * Runs a loaded model as the notebook would before a folder is accepted: one instrumented pass
 * (logits finite, attention rows summing to 1), then two generation steps on the key/value cache,
 * each compared with recomputing the sequence. Throws an Error naming the file and what failed.
 */
export async function verifyModel(model: OnnxModel, file: string): Promise<VerifyReport> {
  const started = performance.now();
  const ids = model.tokenizer.encode(PROMPT).slice(0, Math.max(1, model.config.context - STEPS - 1));
  if (ids.length === 0) throw new Error(`${file}: the tokenizer gives no tokens for "${PROMPT}"`);
  const result = await model.forward(ids);
  if (result.lastLogits.length === 0 || !finite(result.lastLogits)) throw new Error(`${file}: the logits of a test prompt are not finite numbers (NaN or infinity)`);
  const worked: string[] = [];
  const n = ids.length;
  if (result.attention) {
    result.attention.data.forEach((layer, l) => {
      for (let row = 0; row < layer.length / n; row++) {
        const sum = layer.subarray(row * n, (row + 1) * n).reduce((a, b) => a + b, 0);
        if (!(Math.abs(sum - 1) < 1e-2)) throw new Error(`${file}: attention of layer ${l} row ${row} sums to ${sum}, not 1: the tensor read as attention is not a softmax over keys`);
      }
    });
    worked.push('attention');
  }
  if (result.embeddings.token && finite(result.embeddings.token)) worked.push('embeddings');
  if (result.residual) worked.push('residual');
  let cacheMaxProbDiff: number | null = null;
  if (model.hasCache) {
    const seq = [...ids];
    cacheMaxProbDiff = 0;
    for (let step = 0; step < STEPS; step++) {
      const cacheFile = model.cacheFile ?? file;
      const cached = await model.nextLogits(seq);
      if (!model.hasCache) throw new Error(`${file}: ${model.cacheNote ?? 'the key/value cache failed'}`);
      const full = (await model.forward(seq, false)).lastLogits;
      if (cached.length !== full.length) throw new Error(`${cacheFile}: gives ${cached.length} logits where the main graph gives ${full.length}`);
      const [p, q] = [softmax(cached), softmax(full)];
      for (let i = 0; i < p.length; i++) cacheMaxProbDiff = Math.max(cacheMaxProbDiff, Math.abs((p[i] ?? 0) - (q[i] ?? 0)));
      if (!(cacheMaxProbDiff <= CACHE_TOLERANCE)) {
        throw new Error(
          `${cacheFile}: generating on this key/value cache differs from recomputing the sequence with ${file} by ${cacheMaxProbDiff.toFixed(4)} in probability at step ${step + 1}: the cache graph does not match the main graph`,
        );
      }
      seq.push(topK(full, 1)[0]?.id ?? 0);
    }
  }
  return { file, tokens: n, worked, kvCache: model.hasCache, kvCacheNote: model.cacheNote, cacheMaxProbDiff, ms: performance.now() - started };
}
