/**
 * Principal component analysis of a few hundred vectors at most (a prompt's token embeddings), in
 * plain TypeScript: the eigenvectors of the smaller Gram matrix (points × points, or dimensions ×
 * dimensions), found by Jacobi rotations, or for a large one by orthogonal iteration.
 */

/** Eigenpairs of a symmetric matrix, largest eigenvalue first. */
export interface Eigen {
  values: number[];
  /** Unit eigenvectors, one per value. */
  vectors: Float64Array[];
}

/** Above this size, only the leading eigenpairs are found, by orthogonal iteration. */
const JACOBI_MAX = 256;

/**
 * All eigenpairs of the symmetric row-major m × m matrix `a` by cyclic Jacobi rotations: each
 * rotation zeroes one off-diagonal entry; sweeps repeat until the off-diagonal part vanishes.
 */
export function jacobiEigen(a: ArrayLike<number>, m: number): Eigen {
  const s = Float64Array.from(a);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  let scale = 0;
  for (let i = 0; i < m * m; i++) scale += (s[i] ?? 0) ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += (s[p * m + q] ?? 0) ** 2;
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = s[p * m + q] ?? 0;
        if (apq === 0) continue;
        const theta = ((s[q * m + q] ?? 0) - (s[p * m + p] ?? 0)) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < m; k++) {
          const kp = s[k * m + p] ?? 0;
          const kq = s[k * m + q] ?? 0;
          s[k * m + p] = c * kp - sn * kq;
          s[k * m + q] = sn * kp + c * kq;
        }
        for (let k = 0; k < m; k++) {
          const pk = s[p * m + k] ?? 0;
          const qk = s[q * m + k] ?? 0;
          s[p * m + k] = c * pk - sn * qk;
          s[q * m + k] = sn * pk + c * qk;
        }
        for (let k = 0; k < m; k++) {
          const kp = v[k * m + p] ?? 0;
          const kq = v[k * m + q] ?? 0;
          v[k * m + p] = c * kp - sn * kq;
          v[k * m + q] = sn * kp + c * kq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => (s[j * m + j] ?? 0) - (s[i * m + i] ?? 0));
  return {
    values: order.map((i) => s[i * m + i] ?? 0),
    vectors: order.map((i) => Float64Array.from({ length: m }, (_, k) => v[k * m + i] ?? 0)),
  };
}

function multiply(a: ArrayLike<number>, m: number, x: Float64Array): Float64Array {
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let sum = 0;
    for (let j = 0; j < m; j++) sum += (a[i * m + j] ?? 0) * (x[j] ?? 0);
    y[i] = sum;
  }
  return y;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

/** Modified Gram–Schmidt in place; a vector that collapses is replaced by a fresh basis direction. */
function orthonormalise(vectors: Float64Array[]): void {
  vectors.forEach((x, j) => {
    for (let attempt = 0; attempt <= x.length; attempt++) {
      for (let i = 0; i < j; i++) {
        const prev = vectors[i] ?? x;
        const d = dot(prev, x);
        for (let k = 0; k < x.length; k++) x[k] = (x[k] ?? 0) - d * (prev[k] ?? 0);
      }
      const norm = Math.sqrt(dot(x, x));
      if (norm > 1e-12) {
        for (let k = 0; k < x.length; k++) x[k] = (x[k] ?? 0) / norm;
        return;
      }
      x.fill(0);
      x[(j + attempt) % x.length] = 1;
    }
  });
}

/**
 * The `count` leading eigenpairs of a symmetric positive semi-definite m × m matrix by orthogonal
 * iteration on a few more vectors than asked for, finished with a Rayleigh–Ritz step (Jacobi on the
 * small projected matrix). Deterministic: the start vectors are fixed.
 */
export function leadingEigen(a: ArrayLike<number>, m: number, count: number, maxIterations = 2000): Eigen {
  const k = Math.min(m, count + 4);
  const q = Array.from({ length: k }, (_, j) => Float64Array.from({ length: m }, (__, i) => Math.sin(1 + i * (j + 1) * 0.7) + (i === j ? 1 : 0)));
  orthonormalise(q);
  let previous: number[] = [];
  for (let it = 0; it < maxIterations; it++) {
    const z = q.map((x) => multiply(a, m, x));
    const ritz = z.map((y, j) => dot(q[j] ?? y, y));
    z.forEach((y, j) => q[j]?.set(y));
    orthonormalise(q);
    const converged = previous.length > 0 && ritz.slice(0, count).every((r, j) => Math.abs(r - (previous[j] ?? 0)) <= 1e-13 * Math.max(1, Math.abs(ritz[0] ?? 1)));
    previous = ritz;
    if (converged) break;
  }
  const az = q.map((x) => multiply(a, m, x));
  const h = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) h[i * k + j] = dot(q[i] ?? new Float64Array(m), az[j] ?? new Float64Array(m));
  const small = jacobiEigen(h, k);
  return {
    values: small.values.slice(0, count),
    vectors: small.vectors.slice(0, count).map((w) => {
      const u = new Float64Array(m);
      w.forEach((c, j) => {
        const basis = q[j];
        if (basis) for (let i = 0; i < m; i++) u[i] = (u[i] ?? 0) + c * (basis[i] ?? 0);
      });
      return u;
    }),
  };
}

/** The `count` leading eigenpairs of a symmetric positive semi-definite matrix, by whichever method suits its size. */
export function topEigen(a: ArrayLike<number>, m: number, count: number): Eigen {
  if (m <= JACOBI_MAX) {
    const all = jacobiEigen(a, m);
    return { values: all.values.slice(0, count), vectors: all.vectors.slice(0, count) };
  }
  return leadingEigen(a, m, count);
}

export interface PcaResult {
  /** Each point's coordinates on the components: [point][component]. */
  scores: number[][];
  /** Unit principal directions in the original space: [component][dimension]; zero for a component without variance. */
  components: Float64Array[];
  /** Variance along each component (sum of squares over n − 1). */
  variances: number[];
  /** Fraction of the total variance along each component. */
  ratios: number[];
  totalVariance: number;
}

/**
 * PCA of the rows of a row-major n × dim matrix: centred, then the leading `count` directions of
 * variance. Signs are fixed so that each direction's largest entry (in absolute value) is positive.
 */
export function pca(data: ArrayLike<number>, n: number, dim: number, count = 2): PcaResult {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] = (mean[d] ?? 0) + (data[i * dim + d] ?? 0) / n;
  const x = Float64Array.from({ length: n * dim }, (_, k) => (data[k] ?? 0) - (mean[k % dim] ?? 0));
  let total = 0;
  for (const v of x) total += v * v;
  const byPoints = n <= dim;
  const m = byPoints ? n : dim;
  const gram = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let sum = 0;
      if (byPoints) for (let d = 0; d < dim; d++) sum += (x[i * dim + d] ?? 0) * (x[j * dim + d] ?? 0);
      else for (let p = 0; p < n; p++) sum += (x[p * dim + i] ?? 0) * (x[p * dim + j] ?? 0);
      gram[i * m + j] = sum;
      gram[j * m + i] = sum;
    }
  }
  const wanted = Math.min(count, m);
  const eigen = topEigen(gram, m, wanted);
  const components: Float64Array[] = [];
  const sums: number[] = [];
  for (let c = 0; c < count; c++) {
    const value = Math.max(0, eigen.values[c] ?? 0);
    const u = eigen.vectors[c];
    const direction = new Float64Array(dim);
    // A direction without variance (fewer distinct points than components) is left as zero.
    if (u && value > 1e-12 * Math.max(total, Number.MIN_VALUE) && total > 0) {
      if (byPoints) {
        const sigma = Math.sqrt(value);
        for (let p = 0; p < n; p++) for (let d = 0; d < dim; d++) direction[d] = (direction[d] ?? 0) + ((x[p * dim + d] ?? 0) * (u[p] ?? 0)) / sigma;
      } else direction.set(u);
      let largest = 0;
      for (let d = 0; d < dim; d++) if (Math.abs(direction[d] ?? 0) > Math.abs(direction[largest] ?? 0) + 1e-12) largest = d;
      if ((direction[largest] ?? 0) < 0) for (let d = 0; d < dim; d++) direction[d] = -(direction[d] ?? 0);
      sums.push(value);
    } else sums.push(0);
    components.push(direction);
  }
  const scores = Array.from({ length: n }, (_, p) =>
    components.map((direction) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (x[p * dim + d] ?? 0) * (direction[d] ?? 0);
      return s;
    }),
  );
  const denominator = Math.max(1, n - 1);
  return {
    scores,
    components,
    variances: sums.map((s) => s / denominator),
    ratios: sums.map((s) => (total > 0 ? s / total : 0)),
    totalVariance: total / denominator,
  };
}
