import { describe, expect, it } from 'vitest';
import { contextSimilarity, cosine, sharedTokens } from '../../src/engine/analysis';

describe('a word in two contexts', () => {
  it('cosine: parallel 1, opposite −1, orthogonal 0, a zero vector 0', () => {
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1, 12);
    expect(cosine([1, 2], [-1, -2])).toBeCloseTo(-1, 12);
    expect(cosine([1, 0], [0, 3])).toBe(0);
    expect(cosine([0, 0], [1, 1])).toBe(0);
  });

  it('compares the chosen positions depth by depth', () => {
    // Two depths, dim 2; A has 2 positions, B has 3.
    const a = [
      [1, 0, 0, 1],
      [3, 4, 1, 1],
    ];
    const b = [
      [5, 5, 0, 2, 9, 9],
      [0, 0, 0, 0, 4, 3],
    ];
    const sims = contextSimilarity(a, b, 1, 1, 2);
    expect(sims[0]).toBeCloseTo(1, 12); // (0, 1) against (0, 2)
    expect(sims[1]).toBe(0); // (1, 1) against (0, 0)
    expect(contextSimilarity(a, b, 1, 2, 2)[1]).toBeCloseTo((4 + 3) / (Math.SQRT2 * 5), 12);
  });

  it('finds the tokens both prompts share, at their last position in each', () => {
    expect(sharedTokens([7, 3, 9, 3], [1, 3, 8, 9, 3])).toEqual([
      { id: 3, posA: 3, posB: 4 },
      { id: 9, posA: 2, posB: 3 },
    ]);
    expect(sharedTokens([1, 2], [3])).toEqual([]);
  });
});
