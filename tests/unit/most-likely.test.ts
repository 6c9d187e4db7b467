import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { liveOrder, mostLikely } from '../../src/engine/sampling/filters';

describe('mostLikely (the greedy pick without sorting)', () => {
  it('is liveOrder’s first id, ties and removed tokens included', () => {
    const logit = fc.oneof(fc.constantFrom(-Infinity, 0, 1, 2), fc.double({ min: -30, max: 30, noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(fc.array(logit, { minLength: 1, maxLength: 60 }), (values) => {
        const logits = Float64Array.from(values);
        expect(mostLikely(logits)).toBe(liveOrder(logits)[0] ?? -1);
      }),
      { numRuns: 500 },
    );
    expect(mostLikely(Float64Array.from([-Infinity, -Infinity]))).toBe(-1);
    expect(mostLikely(Float64Array.from([3, 5, 5, -Infinity]))).toBe(1);
  });
});
