import type { GraphNode, GraphSummary } from './onnx-decode';

/**
 * Recognisers for the parts of a decoder graph the engine instruments: norms (fused or spelled out
 * in elementary operators), attention (a Softmax over Q·Kᵀ, or a fused operator), positional
 * information and the query/key projections. They read only the graph's structure and small
 * constants, so they work on graphs from torch.onnx, Optimum or onnx.helper alike.
 */

/** Operators that only move, reshape or convert values: the same tensor seen through them. */
const VIEW_OPS = new Set(['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Expand', 'Flatten']);

/** Operators a score tensor passes through between Q·Kᵀ and its Softmax (scale, mask, soft-capping). */
const SCORE_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Reshape', 'Transpose', 'Identity', 'Tanh', 'Expand', 'Squeeze', 'Unsqueeze', 'Max', 'Min', 'Clip']);

const MATMULS = new Set(['MatMul', 'FusedMatMul', 'Einsum']);

/** Operators that compute attention in one kernel (com.microsoft's, and ONNX's own Attention from opset 23): their probabilities are never a tensor. */
export const FUSED_ATTENTION_OPS = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'SparseAttention',
]);

const FUSED_NORMS: Record<string, { kind: 'layer' | 'rms'; skip: boolean }> = {
  LayerNormalization: { kind: 'layer', skip: false },
  SimplifiedLayerNormalization: { kind: 'rms', skip: false },
  RMSNormalization: { kind: 'rms', skip: false },
  SkipLayerNormalization: { kind: 'layer', skip: true },
  SkipSimplifiedLayerNormalization: { kind: 'rms', skip: true },
};

/** Who produces and who consumes each tensor, each node's position, and helpers over them. */
export class GraphIndex {
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly position = new Map<GraphNode, number>();

  constructor(readonly graph: GraphSummary) {
    graph.nodes.forEach((node, i) => {
      this.position.set(node, i);
      for (const out of node.outputs) if (out) this.producer.set(out, node);
      for (const input of node.inputs) {
        if (!input) continue;
        const list = this.consumers.get(input);
        if (list) list.push(node);
        else this.consumers.set(input, [node]);
      }
    });
  }

  isConstant(tensor: string): boolean {
    return this.graph.isConstant(this.through(tensor, ['Cast', 'Identity']));
  }

  /** A constant with one element (after Cast/Identity), else null. */
  scalar(tensor: string): number | null {
    const name = this.through(tensor, ['Cast', 'Identity']);
    const dims = this.graph.initializerDims.get(name);
    if (dims && dims.reduce((a, b) => a * b, 1) !== 1) return null;
    const values = this.graph.isConstant(name) ? this.graph.constantValues(name) : null;
    return values && values.length === 1 ? (values[0] ?? null) : null;
  }

  /** Follows `tensor` back through producers of the given types to the first other one. */
  through(tensor: string, ops: readonly string[] | ReadonlySet<string> = ['Cast', 'Identity']): string {
    const allowed = new Set(ops);
    let name = tensor;
    for (let hops = 0; hops < 16; hops++) {
      const node = this.producer.get(name);
      if (!node || !allowed.has(node.opType)) return name;
      name = node.inputs[0] ?? name;
    }
    return name;
  }

  /** Consumers of `tensor`, looking past Cast and Identity nodes. */
  uses(tensor: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const node of this.consumers.get(tensor) ?? []) {
      if (node.opType === 'Cast' || node.opType === 'Identity') out.push(...this.uses(node.outputs[0] ?? ''));
      else out.push(node);
    }
    return out;
  }

  order(node: GraphNode): number {
    return this.position.get(node) ?? -1;
  }
}

/** One normalisation in the graph, fused or decomposed. */
export interface NormSite {
  kind: 'layer' | 'rms';
  /** The operator type when fused, else "decomposed". */
  op: string;
  /** The tensor being normalised (for the first norm of a block or the final norm: the residual stream); null when a fused
   * Skip*Normalization adds the skip connection inside and does not output the sum. */
  input: string | null;
  /** The normalised, scaled (and shifted) tensor. */
  output: string;
  gamma: string | null;
  beta: string | null;
  epsilon: number;
  /** A node name for messages. */
  node: string;
  /** Graph position of the node that produces `output`. */
  order: number;
}

function fusedNorm(ix: GraphIndex, node: GraphNode): NormSite | null {
  const spec = FUSED_NORMS[node.opType];
  const output = node.outputs[0];
  if (!spec || !output) return null;
  const input = spec.skip ? node.outputs[3] || null : (node.inputs[0] ?? null);
  const gammaAt = spec.skip ? 2 : 1;
  return {
    kind: spec.kind,
    op: node.opType,
    input,
    output,
    gamma: node.inputs[gammaAt] || null,
    beta: spec.kind === 'layer' ? node.inputs[gammaAt + 1] || null : null,
    epsilon: node.attributes['epsilon'] ?? 1e-5,
    node: node.name || output,
    order: ix.order(node),
  };
}

/**
 * A norm spelled out as torch.onnx writes it below opset 17 (LayerNorm) or as Llama's RMSNorm is
 * written: [Sub(x, ReduceMean(x))] → Pow 2 (or Mul by itself) → ReduceMean → Add ε → Sqrt →
 * Div, or Reciprocal / Div(1, ·) then Mul → Mul γ → [Add β]. `variance` is the second ReduceMean.
 */
function decomposedNorm(ix: GraphIndex, variance: GraphNode): NormSite | null {
  const square = ix.producer.get(variance.inputs[0] ?? '');
  let centred: string | undefined;
  if (square?.opType === 'Pow' && ix.scalar(square.inputs[1] ?? '') === 2) centred = square.inputs[0];
  else if (square?.opType === 'Mul' && square.inputs[0] === square.inputs[1]) centred = square.inputs[0];
  if (!centred) return null;
  const addEps = ix.uses(variance.outputs[0] ?? '').find((n) => n.opType === 'Add');
  if (!addEps) return null;
  const epsTensor = addEps.inputs.find((t) => t !== variance.outputs[0] && ix.isConstant(t));
  const epsilon = epsTensor ? ix.scalar(epsTensor) : null;
  if (epsilon === null) return null;
  const sqrt = ix.uses(addEps.outputs[0] ?? '').find((n) => n.opType === 'Sqrt');
  const sqrtOut = sqrt?.outputs[0];
  if (!sqrtOut) return null;
  const base = ix.through(centred);
  const isCentred = (t: string | undefined): boolean => t !== undefined && ix.through(t) === base;
  let normed: string | undefined;
  for (const use of ix.uses(sqrtOut)) {
    if (use.opType === 'Div' && use.inputs[1] === sqrtOut && isCentred(use.inputs[0])) normed = use.outputs[0];
    const isInverse = use.opType === 'Reciprocal' || (use.opType === 'Div' && use.inputs[1] === sqrtOut && ix.scalar(use.inputs[0] ?? '') === 1);
    if (isInverse) {
      const inverse = use.outputs[0] ?? '';
      const mul = ix.uses(inverse).find((n) => n.opType === 'Mul' && n.inputs.some((t) => t !== inverse && isCentred(t)));
      normed = mul?.outputs[0];
    }
    if (normed) break;
  }
  if (!normed) return null;

  // LayerNorm centres first: centred = Sub(x, ReduceMean(x)); RMSNorm squares x itself.
  let kind: 'layer' | 'rms' = 'rms';
  let input = base;
  const sub = ix.producer.get(base);
  if (sub?.opType === 'Sub') {
    const mean = ix.producer.get(sub.inputs[1] ?? '');
    if (mean?.opType === 'ReduceMean' && ix.through(mean.inputs[0] ?? '') === ix.through(sub.inputs[0] ?? '')) {
      kind = 'layer';
      input = sub.inputs[0] ?? base;
    }
  }
  input = ix.through(input);

  let output = normed;
  let gamma: string | null = null;
  let beta: string | null = null;
  const scale = ix.uses(normed).find((n) => n.opType === 'Mul' && n.inputs.some((t) => t !== normed && ix.isConstant(t)));
  if (scale?.outputs[0]) {
    gamma = ix.through(scale.inputs.find((t) => t !== normed && ix.isConstant(t)) ?? '');
    output = scale.outputs[0];
    if (kind === 'layer') {
      const shift = ix.uses(output).find((n) => n.opType === 'Add' && n.inputs.some((t) => t !== output && ix.isConstant(t)));
      if (shift?.outputs[0]) {
        beta = ix.through(shift.inputs.find((t) => t !== output && ix.isConstant(t)) ?? '');
        output = shift.outputs[0];
      }
    }
  }
  const last = ix.producer.get(output);
  return {
    kind,
    op: 'decomposed',
    input,
    output,
    gamma,
    beta,
    epsilon,
    node: (kind === 'layer' ? ix.producer.get(base)?.name : square?.name) || output,
    order: last ? ix.order(last) : ix.order(variance),
  };
}

/** Every normalisation in the graph, in graph order. */
export function findNorms(ix: GraphIndex): NormSite[] {
  const sites: NormSite[] = [];
  for (const node of ix.graph.nodes) {
    const site = FUSED_NORMS[node.opType] ? fusedNorm(ix, node) : node.opType === 'ReduceMean' ? decomposedNorm(ix, node) : null;
    if (site) sites.push(site);
  }
  return sites.sort((a, b) => a.order - b.order);
}

/** Where one layer's attention is computed. */
export interface AttentionSite {
  kind: 'softmax' | 'fused';
  node: GraphNode;
  /** The attention probabilities [batch, heads, query, key] (Softmax output); null when fused. */
  probs: string | null;
  /** The Q·Kᵀ node feeding the Softmax; null when fused. */
  scores: GraphNode | null;
}

/** The activation × activation MatMul (Q·Kᵀ) a Softmax's input comes from through scaling and masking, if any. */
function scoreMatMul(ix: GraphIndex, softmax: GraphNode): GraphNode | null {
  const queue = [softmax.inputs[0] ?? ''];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < 64) {
    const tensor = queue.shift() ?? '';
    if (seen.has(tensor) || ix.isConstant(tensor)) continue;
    seen.add(tensor);
    const node = ix.producer.get(tensor);
    if (!node) continue;
    if (MATMULS.has(node.opType)) {
      const operands = node.opType === 'Einsum' ? node.inputs : node.inputs.slice(0, 2);
      if (operands.length === 2 && operands.every((t) => !ix.isConstant(t) && !isWeightView(ix, t))) return node;
      continue;
    }
    if (SCORE_OPS.has(node.opType)) queue.push(...node.inputs.filter((t) => t));
  }
  return null;
}

/** A tensor that is a weight seen through Transpose/Cast/view operators (so a MatMul with it is a projection). */
function isWeightView(ix: GraphIndex, tensor: string): boolean {
  return ix.isConstant(ix.through(tensor, [...VIEW_OPS, 'Transpose', 'DequantizeLinear']));
}

function softmaxAxisIsLast(node: GraphNode, opset: number): boolean {
  const axis = node.attributes['axis'];
  if (axis === undefined) return opset >= 13;
  // [batch, heads, query, key], or grouped-query attention kept as [batch, kv-heads, group, query, key].
  return axis === -1 || axis === 3 || axis === 4;
}

/** Attention per layer in graph order: Softmaxes over Q·Kᵀ scores (other Softmaxes are ignored) and fused operators. */
export function findAttention(ix: GraphIndex): AttentionSite[] {
  const sites: AttentionSite[] = [];
  for (const node of ix.graph.nodes) {
    if (node.opType === 'Softmax' && softmaxAxisIsLast(node, ix.graph.opset)) {
      const scores = scoreMatMul(ix, node);
      if (scores && node.outputs[0]) sites.push({ kind: 'softmax', node, probs: node.outputs[0], scores });
    } else if (FUSED_ATTENTION_OPS.has(node.opType)) {
      sites.push({ kind: 'fused', node, probs: null, scores: null });
    }
  }
  return sites;
}

/**
 * The norm whose output feeds `start` most directly: a backward walk from `start` that stops at
 * norm outputs, shape computations and constants, keeping the latest norm it meets.
 */
export function nearestNormBefore(ix: GraphIndex, norms: readonly NormSite[], start: readonly string[]): NormSite | null {
  const byOutput = new Map(norms.map((n) => [n.output, n]));
  const queue = [...start];
  const seen = new Set<string>();
  let best: NormSite | null = null;
  while (queue.length > 0) {
    const tensor = queue.pop() ?? '';
    if (!tensor || seen.has(tensor)) continue;
    seen.add(tensor);
    const norm = byOutput.get(tensor);
    if (norm) {
      if (!best || norm.order > best.order) best = norm;
      continue;
    }
    const node = ix.producer.get(tensor);
    if (!node || node.opType === 'Shape' || node.opType === 'Size' || ix.graph.isConstant(tensor)) continue;
    queue.push(...node.inputs);
  }
  return best;
}

/** Widths of the query and key projections feeding a Q·Kᵀ node (their ratio is heads / kv-heads), when readable. */
export function projectionWidths(ix: GraphIndex, scores: GraphNode): { query: number; key: number } | null {
  if (scores.opType === 'Einsum') return null;
  const side = (tensor: string): { node: GraphNode; width: number; split: { node: GraphNode; index: number } | null } | null => {
    const queue: { tensor: string; split: { node: GraphNode; index: number } | null }[] = [{ tensor, split: null }];
    const seen = new Set<string>();
    const found: { node: GraphNode; width: number; split: { node: GraphNode; index: number } | null }[] = [];
    while (queue.length > 0 && seen.size < 256) {
      const item = queue.shift();
      if (!item || seen.has(item.tensor)) continue;
      seen.add(item.tensor);
      const node = ix.producer.get(item.tensor);
      if (!node || ix.graph.isConstant(item.tensor) || node.opType === 'Shape') continue;
      if (node.opType === 'MatMul' || node.opType === 'Gemm') {
        const width = weightWidth(ix, node);
        if (width !== null) found.push({ node, width, split: item.split });
        continue;
      }
      if (MATMULS.has(node.opType)) continue;
      const split = node.opType === 'Split' && !item.split ? { node, index: node.outputs.indexOf(item.tensor) } : item.split;
      for (const input of node.opType === 'Split' ? node.inputs.slice(0, 1) : node.inputs) if (input) queue.push({ tensor: input, split });
    }
    const distinct = new Set(found.map((f) => f.node));
    return distinct.size === 1 ? (found[0] ?? null) : null;
  };
  const query = side(scores.inputs[0] ?? '');
  const key = side(scores.inputs[1] ?? '');
  if (!query || !key) return null;
  if (query.node !== key.node) return { query: query.width, key: key.width };
  // One fused QKV projection, split into query, key and value: the split sizes are the widths.
  const split = query.split;
  if (!split || split.node !== key.split?.node) return null;
  const sizes = split.node.ints?.['split'] ?? ix.graph.constantValues(split.node.inputs[1] ?? '');
  const q = sizes?.[split.index];
  const k = sizes?.[key.split.index];
  return q && k ? { query: q, key: k } : null;
}

/** Output width of a MatMul/Gemm whose second operand is a 2-D weight (possibly transposed), else null. */
export function weightWidth(ix: GraphIndex, node: GraphNode): number | null {
  const w = weightMatrix(ix, node);
  return w ? w.out : null;
}

/** The 2-D weight of a projection: its initializer and orientation; null when the second operand is not a weight. */
export function weightMatrix(ix: GraphIndex, node: GraphNode): { name: string; in: number; out: number; transposed: boolean } | null {
  let name = ix.through(node.inputs[1] ?? '', ['Cast', 'Identity']);
  let transposed = node.opType === 'Gemm' && node.attributes['transB'] === 1;
  const t = ix.producer.get(name);
  if (t?.opType === 'Transpose') {
    const perm = t.ints?.['perm'];
    if (perm && !(perm.length === 2 && perm[0] === 1 && perm[1] === 0)) return null;
    name = ix.through(t.inputs[0] ?? '', ['Cast', 'Identity']);
    transposed = !transposed;
  }
  const dims = ix.graph.initializerDims.get(name);
  if (!dims || dims.length !== 2) return null;
  const [rows = 0, cols = 0] = dims;
  return transposed ? { name, in: cols, out: rows, transposed } : { name, in: rows, out: cols, transposed };
}

/** How a graph tells positions apart. */
export type PositionKind = 'learned' | 'rotary' | 'none';

export interface PositionPlan {
  kind: PositionKind;
  /** The token embedding lookup (Gather on a [vocab, hidden] weight indexed by input_ids). */
  token: GraphNode | null;
  /** The learned positional lookup and the Add of the two, when positions are learned. */
  position: GraphNode | null;
  sum: GraphNode | null;
  /**
   * The float tensors of the two lookups: the Gather's output, or where the table is quantized (an
   * int8 Gather followed by DequantizeLinear, as ONNX Runtime's quantizer writes it) the dequantized one.
   */
  tokenOutput: string | null;
  positionOutput: string | null;
  /** Rotary cos/sin tensors (computed from positions or gathered from tables), when readable. */
  rotary: { cos: string; sin: string } | null;
}

/** The table a Gather reads, seen through Cast/Slice/Identity/DequantizeLinear, when it is a 2-D constant. */
export function gatherTable(ix: GraphIndex, gather: GraphNode): string | null {
  const table = ix.through(gather.inputs[0] ?? '', ['Cast', 'Identity', 'Slice', 'DequantizeLinear']);
  const dims = ix.graph.initializerDims.get(table);
  return dims?.length === 2 ? table : null;
}

/** A lookup's float output: the Gather's, or the DequantizeLinear's that reads it when the table is quantized. */
export function lookupOutput(ix: GraphIndex, gather: GraphNode): string | null {
  const out = gather.outputs[0];
  if (!out) return null;
  const dequantize = (ix.consumers.get(out) ?? []).find((n) => n.opType === 'DequantizeLinear' && n.inputs[0] === out);
  return dequantize?.outputs[0] ?? out;
}

/** Token and positional embeddings, and whether positions are learned, rotary or neither. */
export function findPositions(ix: GraphIndex): PositionPlan {
  const origin = (t: string): string => ix.through(t, ['Cast', 'Identity', 'Unsqueeze', 'Reshape', 'Squeeze']);
  const token = ix.graph.nodes.find((n) => n.opType === 'Gather' && gatherTable(ix, n) !== null && origin(n.inputs[1] ?? '') === 'input_ids') ?? null;
  const tokenOutput = token ? lookupOutput(ix, token) : null;
  let position: GraphNode | null = null;
  let sum: GraphNode | null = null;
  if (tokenOutput) {
    // The token embedding, possibly scaled or reshaped, added to a lookup in another table.
    const same = [tokenOutput];
    for (let i = 0; i < same.length && i < 16; i++) {
      for (const use of ix.consumers.get(same[i] ?? '') ?? []) {
        const out = use.outputs[0];
        if (!out) continue;
        if (VIEW_OPS.has(use.opType) || (use.opType === 'Mul' && use.inputs.some((t) => ix.scalar(t) !== null))) same.push(out);
        else if (use.opType === 'Add' && !sum) {
          const other = use.inputs.find((t) => !same.includes(t)) ?? '';
          const lookup = ix.producer.get(ix.through(other, [...VIEW_OPS, 'DequantizeLinear']));
          if (lookup?.opType === 'Gather' && lookup !== token && gatherTable(ix, lookup) !== null) {
            position = lookup;
            sum = use;
          }
        }
      }
    }
  }
  const rotary = findRotary(ix, token, position);
  const positionOutput = position ? lookupOutput(ix, position) : null;
  return { kind: position ? 'learned' : rotary ? 'rotary' : 'none', token, position, sum, rotary, tokenOutput, positionOutput };
}

function findRotary(ix: GraphIndex, token: GraphNode | null, position: GraphNode | null): { cos: string; sin: string } | null {
  const nodes = ix.graph.nodes;
  // Fused rotary operators carry their cos/sin caches as inputs.
  const fused = nodes.find((n) => n.opType === 'RotaryEmbedding' || (n.opType === 'GroupQueryAttention' && n.attributes['do_rotary'] === 1));
  if (fused) {
    const [cos, sin] = fused.opType === 'RotaryEmbedding' ? [fused.inputs[2], fused.inputs[3]] : [fused.inputs[7], fused.inputs[8]];
    if (cos && sin) return { cos, sin };
  }
  // cos and sin computed from the positions (transformers >= 4.38, and most hand-written exports).
  const cos = nodes.find((n) => n.opType === 'Cos')?.outputs[0];
  const sin = nodes.find((n) => n.opType === 'Sin')?.outputs[0];
  if (cos && sin) return { cos, sin };
  // Precomputed cos/sin tables gathered at the positions: row 0 of cos is all ones, of sin all zeros.
  let tableCos: string | undefined;
  let tableSin: string | undefined;
  const atPositions = (indices: string): boolean => {
    const from = ix.through(indices, [...VIEW_OPS, 'Add']);
    return from === 'position_ids' || ix.producer.get(from)?.opType === 'Range';
  };
  for (const n of nodes) {
    if (n.opType !== 'Gather' || n === token || n === position || !n.outputs[0] || !atPositions(n.inputs[1] ?? '')) continue;
    const table = gatherTable(ix, n);
    const width = table ? (ix.graph.initializerDims.get(table)?.[1] ?? 0) : 0;
    const values = table && width > 0 ? ix.graph.initializerFloats(table) : null;
    if (!values) continue;
    const row = values.subarray(0, width);
    if (!tableCos && row.every((v) => Math.abs(v - 1) < 1e-6)) tableCos = n.outputs[0];
    else if (!tableSin && row.every((v) => Math.abs(v) < 1e-6)) tableSin = n.outputs[0];
  }
  return tableCos && tableSin ? { cos: tableCos, sin: tableSin } : null;
}
