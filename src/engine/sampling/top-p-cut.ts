import { HIGH_WORD, sortNonNegative } from './float-sort';

/**
 * Where top-p cuts: how many of the most likely tokens it takes for their probabilities, summed
 * from the largest down, to reach p, and the smallest of them. Defined by that sum in sorted order;
 * found by a histogram of the probabilities' upper bits, sorting only the bucket where the sum
 * crosses p, and by the sort itself where rounding could tell the two sums apart.
 */

/** Tolerance for "the cumulative probability reaches p", so that p = 1 keeps every token. */
export const REACH = 1e-12;

export interface TopPCut {
  /** The smallest probability kept. */
  cut: number;
  /** How many tokens it took. */
  count: number;
}

/** The probabilities sorted by the exact cut, kept between steps. */
let sortedScratch = new Float64Array(0);

/**
 * The definition: the live probabilities at or above `floor`, summed from the largest down until
 * they reach p; how many it took, the smallest of them, and whether they reached p at all.
 */
function sortedCut(logits: Float64Array, probs: Float64Array, p: number, floor: number): TopPCut & { reached: boolean } {
  const n = probs.length;
  if (sortedScratch.length < n) sortedScratch = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) if ((logits[i] ?? -Infinity) > -Infinity && (probs[i] ?? 0) >= floor) sortedScratch[m++] = probs[i] ?? 0;
  const desc = sortNonNegative(sortedScratch.subarray(0, m));
  let cumulative = 0;
  let count = 0;
  for (let k = m - 1; k >= 0; k--) {
    cumulative += desc[k] ?? 0;
    count++;
    if (cumulative >= p - REACH) break;
  }
  return { cut: desc[m - count] ?? 0, count, reached: cumulative >= p - REACH };
}

/** Sums of the live probabilities by binary exponent, kept between steps. */
const binadeSums = new Float64Array(2048);

/**
 * The smallest power of two such that the live probabilities at or above it sum past p (with a
 * margin for summing in another order), or 0 when none short of all of them does.
 */
function binadeFloor(logits: Float64Array, probs: Float64Array, p: number): number {
  const words = new Uint32Array(probs.buffer, probs.byteOffset, 2 * probs.length);
  binadeSums.fill(0);
  for (let i = 0; i < probs.length; i++) {
    if (!((logits[i] ?? -Infinity) > -Infinity)) continue;
    const e = ((words[2 * i + HIGH_WORD] ?? 0) >>> 20) & 0x7ff;
    binadeSums[e] = (binadeSums[e] ?? 0) + (probs[i] ?? 0);
  }
  let sum = 0;
  for (let e = 2047; e > 0; e--) {
    sum += binadeSums[e] ?? 0;
    if (sum >= p + 1e-9) return 2 ** (e - 1023);
  }
  return 0;
}

/** The cut by its definition: a sort of the probabilities from the binade where the sum reaches p upwards (all of them where that falls short). */
export function sortedTopPCut(logits: Float64Array, probs: Float64Array, p: number): TopPCut {
  const floor = binadeFloor(logits, probs, p);
  const found = sortedCut(logits, probs, p, floor);
  const { cut, count } = found.reached || floor === 0 ? found : sortedCut(logits, probs, p, 0);
  return { cut, count };
}

/**
 * Buckets of the upper 16 bits of a probability's float64 (sign, exponent, 4 bits of mantissa):
 * values in [0, 1] fall in the first 0x3ff1; their order is the values' order.
 */
const BUCKETS = 0x3ff1;
const bucketSums = new Float64Array(BUCKETS);
const bucketCounts = new Uint32Array(BUCKETS);
let bucketScratch = new Float64Array(0);

/** The cut: by the histogram where it can tell, else by the sort. */
export function topPCut(logits: Float64Array, probs: Float64Array, p: number): TopPCut {
  return histogramTopPCut(probs, p) ?? sortedTopPCut(logits, probs, p);
}

/**
 * `sortedTopPCut`'s answer without sorting the vocabulary, or null where it cannot tell: the
 * probabilities' sums by bucket give the bucket where the sum from the largest down reaches p, and
 * only that bucket is sorted. These sums come in another order than the definition's, so they may
 * differ from its in the last bits: by at most (n − 1)·2⁻⁵³ of the total each (n non-negative values
 * summed in any order). Where the sum before or at the crossing lies within several times that of
 * p, the answer could differ: null (so also for p = 1, whose sum meets p only to within rounding).
 * `probs` is a softmax of the logits, so a removed token's probability is 0: the first bucket's,
 * where the sum never crosses, and no other bucket needs the logits to tell live tokens apart.
 */
export function histogramTopPCut(probs: Float64Array, p: number): TopPCut | null {
  const n = probs.length;
  const target = p - REACH;
  const margin = 8 * n * 2 ** -53;
  if (!(target < 1 - 2 * margin)) return null;
  const words = new Uint32Array(probs.buffer, probs.byteOffset, 2 * n);
  bucketSums.fill(0);
  bucketCounts.fill(0);
  for (let i = 0; i < n; i++) {
    const b = (words[2 * i + HIGH_WORD] ?? 0) >>> 16;
    // Above 1 or NaN: not a probability.
    if (b >= BUCKETS) return null;
    bucketSums[b] = (bucketSums[b] ?? 0) + (probs[i] ?? 0);
    bucketCounts[b] = (bucketCounts[b] ?? 0) + 1;
  }
  let above = 0;
  let count = 0;
  let b = BUCKETS - 1;
  for (; b >= 0; b--) {
    if ((bucketCounts[b] ?? 0) === 0) continue;
    if (above + (bucketSums[b] ?? 0) >= target) break;
    above += bucketSums[b] ?? 0;
    count += bucketCounts[b] ?? 0;
  }
  // Bucket 0 holds the removed tokens (and probabilities too small to tell apart from them): never a crossing here.
  if (b <= 0 || !(above < target - margin)) return null;
  const size = bucketCounts[b] ?? 0;
  if (bucketScratch.length < size) bucketScratch = new Float64Array(size);
  let m = 0;
  for (let i = 0; i < n && m < size; i++) if ((words[2 * i + HIGH_WORD] ?? 0) >>> 16 === b) bucketScratch[m++] = probs[i] ?? 0;
  // A bucket holds a few thousand values at most on a flat vocabulary: the built-in sort is quicker there.
  const bucket = bucketScratch.subarray(0, m);
  const desc = m < 4096 ? bucket.sort() : sortNonNegative(bucket);
  let cumulative = above;
  for (let k = m - 1; k >= 0; k--) {
    const before = cumulative;
    cumulative += desc[k] ?? 0;
    count++;
    if (cumulative >= target) return cumulative >= target + margin && before < target - margin ? { cut: desc[k] ?? 0, count } : null;
  }
  return null;
}
