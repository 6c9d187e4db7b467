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
