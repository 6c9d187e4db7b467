import { GraphIndex } from './graph-index';
import { findPositions, gatherTable } from './graph-positions';
import type { GraphNode, GraphSummary } from './onnx-decode';

/**
 * The token embedding table and the learned positional table, read from the graph's weights (the
 * tables its embedding Gathers index), and what the Embed cell computes from them: nearest
 * vocabulary neighbours by cosine similarity, position vectors and their similarities, and for
 * rotary models the rotation angle of each dimension pair.
 */

/** A 2-D weight read from the graph: row-major [rows][width]. */
export interface EmbeddingTable {
  /** The initializer's name in the graph. */
  name: string;
  rows: number;
  width: number;
  data: Float32Array;
}

export type Unavailable = { unavailable: string };

export interface EmbeddingTables {
  token: EmbeddingTable | Unavailable;
  /** The learned positional table; null when the graph has none (rotary or no positions). */
  position: EmbeddingTable | Unavailable | null;
}

/** The table a Gather on axis 0 reads, as floats; a Slice on the way must start at row 0. */
function readTable(ix: GraphIndex, gather: GraphNode, what: string): EmbeddingTable | Unavailable {
  const name = gatherTable(ix, gather);
  if (!name) return { unavailable: `the ${what} lookup does not read a 2-D weight of the graph` };
  if ((gather.attributes['axis'] ?? 0) !== 0) return { unavailable: `the ${what} lookup gathers along axis ${gather.attributes['axis']}, not rows` };
  const direct = ix.through(gather.inputs[0] ?? '', ['Cast', 'Identity', 'DequantizeLinear']);
  if (direct !== name) {
    const slice = ix.producer.get(direct);
    const starts = slice ? ix.graph.constantValues(slice.inputs[1] ?? '') : null;
    if (!starts || starts.some((s) => s !== 0)) return { unavailable: `the ${what} table is sliced before the lookup at a start that cannot be read` };
  }
  const [rows = 0, width = 0] = ix.graph.initializerDims.get(name) ?? [];
  const quantized = ix.graph.initializerBytes(name);
  const data = quantized ? dequantizeTable(ix, gather, name, quantized, width, what) : ix.graph.initializerFloats(name);
  if (data && 'unavailable' in data) return data;
  if (!data) {
    return { unavailable: `the ${what} table "${name}" is not stored as float32, float16, bfloat16 or 8-bit integers (type ${ix.graph.initializerTypes.get(name) ?? '?'}), so it cannot be read` };
  }
  if (data.length !== rows * width) return { unavailable: `the ${what} table "${name}" holds ${data.length} values, not ${rows} × ${width}` };
  return { name, rows, width, data };
}

/**
 * An 8-bit table as floats, (q − zero point) × scale, with the scale and zero point of the
 * DequantizeLinear that turns it (or the rows gathered from it) into floats: one for the whole table,
 * or one per column (the hidden dimension).
 */
function dequantizeTable(
  ix: GraphIndex,
  gather: GraphNode,
  name: string,
  table: { dataType: number; bytes: Uint8Array },
  width: number,
  what: string,
): Float32Array | Unavailable {
  const before = ix.producer.get(ix.through(gather.inputs[0] ?? '', ['Cast', 'Identity']));
  const after = (ix.consumers.get(gather.outputs[0] ?? '') ?? []).find((n) => n.opType === 'DequantizeLinear');
  const dq = before?.opType === 'DequantizeLinear' ? before : after;
  if (!dq) return { unavailable: `the ${what} table "${name}" is stored as 8-bit integers with no DequantizeLinear to read its scale from` };
  const scale = ix.graph.constantValues(dq.inputs[1] ?? '');
  const zero = dq.inputs[2] ? ix.graph.constantValues(dq.inputs[2]) : [0];
  if (!scale || !zero || scale.length === 0) return { unavailable: `the ${what} table "${name}" has a DequantizeLinear whose scale or zero point is not a constant of the graph` };
  const perColumn = scale.length === width && width > 1;
  if (scale.length !== 1 && !perColumn) return { unavailable: `the ${what} table "${name}" is quantized with ${scale.length} scales, neither one nor one per column (${width})` };
  const signed = table.dataType === 3;
  const out = new Float32Array(table.bytes.length);
  for (let i = 0; i < out.length; i++) {
    const raw = table.bytes[i] ?? 0;
    const q = signed && raw > 127 ? raw - 256 : raw;
    const c = perColumn ? i % width : 0;
    out[i] = (q - (zero[c] ?? zero[0] ?? 0)) * (scale[c] ?? 0);
  }
  return out;
}

/** Reads the token and learned positional embedding tables from a decoded graph. */
export function readEmbeddingTables(graph: GraphSummary): EmbeddingTables {
  const ix = new GraphIndex(graph);
  const plan = findPositions(ix);
  return {
    token: plan.token ? readTable(ix, plan.token, 'token embedding') : { unavailable: 'no token embedding lookup (a Gather of input_ids in a 2-D weight) was found' },
    position: plan.position ? readTable(ix, plan.position, 'positional embedding') : null,
  };
}

export interface Neighbour {
  id: number;
  /** Cosine similarity with the chosen token's embedding, in [-1, 1]. */
  similarity: number;
}

/** Cosine-similarity search over every row of an embedding table; row norms are computed once. */
export class NeighbourIndex {
  private norms: Float64Array | null = null;

  constructor(readonly table: EmbeddingTable) {}

  private rowNorms(): Float64Array {
    if (this.norms) return this.norms;
    const { rows, width, data } = this.table;
    const norms = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let d = 0; d < width; d++) s += (data[r * width + d] ?? 0) ** 2;
      norms[r] = Math.sqrt(s);
    }
    this.norms = norms;
    return norms;
  }

  /**
   * The `k` rows most similar to row `id` by cosine similarity, most similar first; the row itself
   * (similarity 1) comes first among equals. Rows of length zero have similarity 0.
   */
  nearest(id: number, k: number): Neighbour[] {
    const { rows, width, data } = this.table;
    if (!Number.isInteger(id) || id < 0 || id >= rows) throw new Error(`token id ${id} is outside the embedding table's ${rows} rows`);
    const norms = this.rowNorms();
    const own = norms[id] ?? 0;
    const best: Neighbour[] = [];
    const before = (a: Neighbour, b: Neighbour): boolean => a.similarity > b.similarity || (a.similarity === b.similarity && (a.id === id || (b.id !== id && a.id < b.id)));
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      for (let d = 0; d < width; d++) dot += (data[id * width + d] ?? 0) * (data[r * width + d] ?? 0);
      const denom = own * (norms[r] ?? 0);
      // The row itself is exactly 1, not 1 ± rounding.
      const candidate = { id: r, similarity: r === id && denom > 0 ? 1 : denom > 0 ? dot / denom : 0 };
      const last = best[best.length - 1];
      if (best.length === k && last && !before(candidate, last)) continue;
      let at = best.length;
      while (at > 0 && before(candidate, best[at - 1] ?? candidate)) at--;
      best.splice(at, 0, candidate);
      if (best.length > k) best.pop();
    }
    return best;
  }
}

/** Cosine similarity between every pair of the first `count` rows: row-major [count][count]. */
export function rowSimilarities(data: ArrayLike<number>, count: number, width: number): Float32Array {
  const norms = Array.from({ length: count }, (_, i) => {
    let s = 0;
    for (let d = 0; d < width; d++) s += (data[i * width + d] ?? 0) ** 2;
    return Math.sqrt(s);
  });
  const out = new Float32Array(count * count);
  for (let i = 0; i < count; i++) {
    for (let j = i; j < count; j++) {
      let dot = 0;
      for (let d = 0; d < width; d++) dot += (data[i * width + d] ?? 0) * (data[j * width + d] ?? 0);
      const denom = (norms[i] ?? 0) * (norms[j] ?? 0);
      const v = i === j && denom > 0 ? 1 : denom > 0 ? dot / denom : 0;
      out[i * count + j] = v;
      out[j * count + i] = v;
    }
  }
  return out;
}

/** Learned positions: the first `count` rows of the table and their pairwise cosine similarities. */
export interface LearnedPositions {
  kind: 'learned';
  table: string;
  /** Rows in the table (positions the model was trained for). */
  rows: number;
  count: number;
  width: number;
  /** Row-major [count][width]. */
  vectors: Float32Array;
  /** Row-major [count][count]. */
  similarity: Float32Array;
}

/** Rotary positions: each pair of dimensions in a head is rotated by position × θ_i. */
export interface RotaryPositions {
  kind: 'rotary';
  /** Head size d; there are d / 2 pairs. */
  headDim: number;
  /** The base of θ_i = base^(−2i/d). */
  base: number;
  /** Where the base comes from: config.json's rope_theta, or the usual default. */
  baseSource: 'rope_theta' | 'default';
  /** θ_i per pair, radians per position. */
  angles: number[];
  /** Whether the angles were read from the graph's own inverse-frequency constant (else computed from the base). */
  fromGraph: boolean;
  /** When read from the graph: whether they equal base^(−2i/d) (within 1e-5 relative). */
  matchesFormula: boolean;
}

export interface NoPositions {
  kind: 'none';
  /** Why nothing can be shown, for the UI. */
  reason: string;
}

export type PositionsView = LearnedPositions | RotaryPositions | NoPositions;

export function learnedPositions(table: EmbeddingTable, count: number): LearnedPositions {
  const n = Math.max(1, Math.min(count, table.rows));
  const vectors = table.data.slice(0, n * table.width);
  return { kind: 'learned', table: table.name, rows: table.rows, count: n, width: table.width, vectors, similarity: rowSimilarities(vectors, n, table.width) };
}

/** θ_i = base^(−2i/d) for i = 0 … d/2 − 1. */
export function rotaryAngles(base: number, headDim: number): number[] {
  return Array.from({ length: Math.floor(headDim / 2) }, (_, i) => base ** ((-2 * i) / headDim));
}

/**
 * The inverse frequencies a graph multiplies positions by before its Cos: a float constant of
 * d/2 values starting at 1, found by walking back from the Cos (null when there is none).
 */
export function graphInverseFrequencies(graph: GraphSummary, pairs: number): number[] | null {
  const ix = new GraphIndex(graph);
  const cos = graph.nodes.find((n) => n.opType === 'Cos');
  const queue = [...(cos?.inputs ?? [])];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < 64) {
    const tensor = queue.shift() ?? '';
    if (!tensor || seen.has(tensor)) continue;
    seen.add(tensor);
    if (graph.isConstant(tensor)) {
      const values = graph.constantValues(tensor);
      if (values && values.length === pairs && Math.abs((values[0] ?? 0) - 1) < 1e-6) return values;
      continue;
    }
    queue.push(...(ix.producer.get(tensor)?.inputs ?? []));
  }
  return null;
}

export function rotaryPositions(graph: GraphSummary, headDim: number, ropeTheta: number | null): RotaryPositions {
  const base = ropeTheta ?? 10000;
  const formula = rotaryAngles(base, headDim);
  const read = graphInverseFrequencies(graph, formula.length);
  const matchesFormula = read !== null && read.every((v, i) => Math.abs(v - (formula[i] ?? 0)) <= 1e-5 * Math.abs(formula[i] ?? 1));
  return {
    kind: 'rotary',
    headDim,
    base,
    baseSource: ropeTheta === null ? 'default' : 'rope_theta',
    angles: read ?? formula,
    fromGraph: read !== null,
    matchesFormula,
  };
}
