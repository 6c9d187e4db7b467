import { describe, expect, it } from 'vitest';
import { jacobiEigen, leadingEigen, pca } from '../../src/engine/pca';

/** Equal up to sign, within `tol` per entry. */
function expectUpToSign(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-9): void {
  const a = Array.from(actual);
  const sign = Math.sign(a.reduce((s, v, i) => s + v * (expected[i] ?? 0), 0)) || 1;
  a.forEach((v, i) => expect(Math.abs(sign * v - (expected[i] ?? 0))).toBeLessThan(tol));
}

const R = Math.SQRT1_2;

describe('jacobiEigen', () => {
  it('finds the eigenpairs of [[2, 1], [1, 2]]: 3 along (1, 1)/√2 and 1 along (1, −1)/√2', () => {
    const e = jacobiEigen([2, 1, 1, 2], 2);
    expect(e.values[0]).toBeCloseTo(3, 12);
    expect(e.values[1]).toBeCloseTo(1, 12);
    expectUpToSign(e.vectors[0] ?? [], [R, R]);
    expectUpToSign(e.vectors[1] ?? [], [R, -R]);
  });

  it('sorts a 3 × 3 block matrix largest first: 5, 3, 1', () => {
    const e = jacobiEigen([4, 1, 0, 1, 4, 0, 0, 0, 1], 3);
    e.values.forEach((v, i) => expect(v).toBeCloseTo([5, 3, 1][i] ?? NaN, 12));
    expectUpToSign(e.vectors[2] ?? [], [0, 0, 1]);
  });
});

describe('leadingEigen (orthogonal iteration)', () => {
  it('agrees with Jacobi on the two leading eigenpairs of a 40 × 40 positive semi-definite matrix', () => {
    const m = 40;
    const b = Array.from({ length: m * m }, (_, k) => Math.sin(k * 1.37 + 0.3));
    const a = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let k = 0; k < m; k++) a[i * m + j] = (a[i * m + j] ?? 0) + (b[k * m + i] ?? 0) * (b[k * m + j] ?? 0);
    const exact = jacobiEigen(a, m);
    const fast = leadingEigen(a, m, 2);
    for (const c of [0, 1]) {
      expect(Math.abs((fast.values[c] ?? 0) - (exact.values[c] ?? 0)) / (exact.values[0] ?? 1)).toBeLessThan(1e-10);
      expectUpToSign(fast.vectors[c] ?? [], Array.from(exact.vectors[c] ?? []), 1e-6);
    }
  });
});

describe('pca', () => {
  it('puts PC1 along x (80% of the variance) and PC2 along y (20%) for (±2, 0), (0, ±1)', () => {
    const r = pca([2, 0, -2, 0, 0, 1, 0, -1], 4, 2);
    expect(r.ratios[0]).toBeCloseTo(0.8, 12);
    expect(r.ratios[1]).toBeCloseTo(0.2, 12);
    expect(r.variances[0]).toBeCloseTo(8 / 3, 12);
    expect(r.totalVariance).toBeCloseTo(10 / 3, 12);
    expectUpToSign(r.components[0] ?? [], [1, 0]);
    expectUpToSign(r.components[1] ?? [], [0, 1]);
    // Signs are fixed: the largest entry of each direction is positive.
    expect(Array.from(r.components[0] ?? [])).toEqual([1, 0]);
    expect(r.scores.map((s) => s.map((v) => Math.round(v * 1e9) / 1e9 + 0))).toEqual([
      [2, 0],
      [-2, 0],
      [0, 1],
      [0, -1],
    ]);
  });

  it('centres first and finds diagonal directions: (1, 1, 0)/√2 with 80%, (1, −1, 0)/√2 with 20%', () => {
    const points = [2, 2, 1, -2, -2, 1, 1, -1, 1, -1, 1, 1];
    const r = pca(points, 4, 3);
    expectUpToSign(r.components[0] ?? [], [R, R, 0]);
    expectUpToSign(r.components[1] ?? [], [R, -R, 0]);
    expect(r.ratios[0]).toBeCloseTo(0.8, 12);
    expect(r.ratios[1]).toBeCloseTo(0.2, 12);
    expect(Math.abs(r.scores[0]?.[0] ?? 0)).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(Math.abs(r.scores[2]?.[1] ?? 0)).toBeCloseTo(Math.SQRT2, 12);
  });

  it('gives the same answer from the points × points Gram matrix (fewer points than dimensions)', () => {
    // The same four points with two more dimensions: one constant, one always zero.
    const points = [2, 2, 1, 7, 0, -2, -2, 1, 7, 0, 1, -1, 1, 7, 0, -1, 1, 1, 7, 0];
    const r = pca(points, 4, 5);
    expectUpToSign(r.components[0] ?? [], [R, R, 0, 0, 0]);
    expectUpToSign(r.components[1] ?? [], [R, -R, 0, 0, 0]);
    expect(r.ratios[0]).toBeCloseTo(0.8, 12);
    expect(r.ratios[1]).toBeCloseTo(0.2, 12);
    expect(Math.abs(r.scores[1]?.[0] ?? 0)).toBeCloseTo(2 * Math.SQRT2, 12);
  });

  it('gives two points all the variance on PC1 and a zero PC2', () => {
    const r = pca([1, 2, 3, 3, 2, 1], 2, 3);
    expect(r.ratios[0]).toBeCloseTo(1, 12);
    expect(r.ratios[1]).toBe(0);
    expectUpToSign(r.components[0] ?? [], [-R, 0, R]);
    expect(Array.from(r.components[1] ?? [])).toEqual([0, 0, 0]);
    expect(r.scores[0]?.[0]).toBeCloseTo(-(r.scores[1]?.[0] ?? 0), 12);
    expect(Math.abs(r.scores[0]?.[0] ?? 0)).toBeCloseTo(Math.SQRT2, 12);
  });

  it('gives one point (or identical points) no variance at all', () => {
    const r = pca([1, 2, 1, 2], 2, 2);
    expect(r.ratios).toEqual([0, 0]);
    expect(r.scores).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('finds the leading directions of a large matrix by iteration (300 points × 260 dimensions)', () => {
    const n = 300;
    const dim = 260;
    const data = new Float64Array(n * dim);
    for (let p = 0; p < n; p++) {
      for (let d = 0; d < dim; d++) data[p * dim + d] = 0.01 * Math.sin(p * 0.37 + d * 1.1);
      data[p * dim + 3] = (data[p * dim + 3] ?? 0) + 10 * Math.cos(p);
      data[p * dim + 7] = (data[p * dim + 7] ?? 0) + 3 * Math.sin(p * 2.3);
    }
    const r = pca(data, n, dim);
    expect(Math.abs(r.components[0]?.[3] ?? 0)).toBeGreaterThan(0.9999);
    expect(Math.abs(r.components[1]?.[7] ?? 0)).toBeGreaterThan(0.999);
    expect((r.ratios[0] ?? 0) + (r.ratios[1] ?? 0)).toBeGreaterThan(0.99);
    expect(r.ratios[0]).toBeGreaterThan(r.ratios[1] ?? 1);
  });
});
