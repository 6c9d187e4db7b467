/**
 * Models up to this many bytes of ONNX run on one thread: their kernels are too small to share, and
 * two threads measured slower than one on the bundled models (README, Benchmark).
 */
export const ONE_THREAD_MAX_BYTES = 64 * 2 ** 20;

/** The thread count for a model of `bytes` when none is asked for: one for small models, else `available` up to four. */
export function threadsFor(bytes: number, available: number): number {
  return bytes <= ONE_THREAD_MAX_BYTES ? 1 : Math.max(1, Math.min(4, available));
}
