/** Cosine similarity between every pair of rows of a row-major [n][dim] matrix. */
export function cosineSimilarityMatrix(data: ArrayLike<number>, n: number, dim: number): number[][] {
  const norms = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (data[i * dim + d] ?? 0) ** 2;
    return Math.sqrt(s);
  });
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (__, j) => {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += (data[i * dim + d] ?? 0) * (data[j * dim + d] ?? 0);
      const denom = (norms[i] ?? 0) * (norms[j] ?? 0);
      return denom > 0 ? dot / denom : 0;
    }),
  );
}

/** One attention row: the weights that query position `query` gives every key in one head. */
export function attentionRow(layerData: ArrayLike<number>, seqLen: number, head: number, query: number): number[] {
  const start = (head * seqLen + query) * seqLen;
  return Array.from({ length: seqLen }, (_, k) => layerData[start + k] ?? 0);
}

/** Smallest and largest value of an array (0, 0 when empty). */
export function extent(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return values.length ? [min, max] : [0, 0];
}

/** The Euclidean norm of each row of a row-major [n][dim] matrix, or of the difference of two. */
export function rowNorms(a: ArrayLike<number>, n: number, dim: number, minus?: ArrayLike<number>): number[] {
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += ((a[i * dim + d] ?? 0) - (minus?.[i * dim + d] ?? 0)) ** 2;
    return Math.sqrt(s);
  });
}

/**
 * What each block writes into the residual stream, per block and position: the norm of its
 * attention output (mid − stream entering), of its MLP output (stream leaving − mid), and of the
 * stream itself at every boundary ([blocks + 1][n]). Without the mid-block stream, only the stream.
 */
export function blockWrites(
  residual: readonly ArrayLike<number>[],
  mid: readonly ArrayLike<number>[] | null,
  n: number,
  dim: number,
): { stream: number[][]; attention: number[][] | null; mlp: number[][] | null } {
  const stream = residual.map((r) => rowNorms(r, n, dim));
  if (!mid || mid.length !== residual.length - 1) return { stream, attention: null, mlp: null };
  return {
    stream,
    attention: mid.map((m, l) => rowNorms(m, n, dim, residual[l])),
    mlp: mid.map((m, l) => rowNorms(residual[l + 1] ?? [], n, dim, m)),
  };
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * A word in two contexts: the cosine similarity of its hidden vector at each depth (the residual
 * stream entering each block, then the final norm's input), position `posA` of stream A against
 * `posB` of stream B, each stream row-major [position][dim].
 */
export function contextSimilarity(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[], posA: number, posB: number, dim: number): number[] {
  const row = (m: ArrayLike<number>, p: number): number[] => Array.from({ length: dim }, (_, d) => m[p * dim + d] ?? 0);
  return a.map((streamA, depth) => cosine(row(streamA, posA), row(b[depth] ?? [], posB)));
}

/** Positions of the tokens that occur in both id lists, each with its last position in either. */
export function sharedTokens(a: readonly number[], b: readonly number[]): { id: number; posA: number; posB: number }[] {
  const inB = new Map<number, number>();
  b.forEach((id, i) => inB.set(id, i));
  const lastA = new Map<number, number>();
  a.forEach((id, i) => lastA.set(id, i));
  return [...lastA.entries()].filter(([id]) => inB.has(id)).map(([id, posA]) => ({ id, posA, posB: inB.get(id) ?? 0 }));
}

/**
 * One head's output at one query position as its weighted sum: each earlier token's part,
 * weight × value vector, and their total. `attention` is a layer's [head][query][key] weights,
 * `values` its [value head][position][headDim] vectors; `valueHead` is the value head the query
 * head reads (the same head, or the key/value head its group shares).
 */
export function weightedSum(
  attention: ArrayLike<number>,
  values: ArrayLike<number>,
  n: number,
  head: number,
  valueHead: number,
  headDim: number,
  query: number,
): { parts: { key: number; weight: number; vector: number[] }[]; total: number[] } {
  const row = attentionRow(attention, n, head, query);
  const total = new Array<number>(headDim).fill(0);
  const parts = Array.from({ length: query + 1 }, (_, key) => {
    const weight = row[key] ?? 0;
    const base = (valueHead * n + key) * headDim;
    const vector = Array.from({ length: headDim }, (__, d) => weight * (values[base + d] ?? 0));
    vector.forEach((v, d) => (total[d] = (total[d] ?? 0) + v));
    return { key, weight, vector };
  });
  return { parts, total };
}
