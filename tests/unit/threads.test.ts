import { describe, expect, it } from 'vitest';
import { ONE_THREAD_MAX_BYTES, threadsFor } from '../../src/engine/threads';

describe('threads by model size', () => {
  it('runs small models on one thread and larger ones on the cores there are, up to four', () => {
    expect(threadsFor(4_000_000, 8)).toBe(1);
    expect(threadsFor(ONE_THREAD_MAX_BYTES, 8)).toBe(1);
    expect(threadsFor(ONE_THREAD_MAX_BYTES + 1, 2)).toBe(2);
    expect(threadsFor(653_000_000, 16)).toBe(4);
    expect(threadsFor(653_000_000, 0)).toBe(1);
  });
});
