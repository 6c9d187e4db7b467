import type { GraphNode } from './onnx-decode';
import { VIEW_OPS, type GraphIndex } from './graph-index';

/** Attention in a decoder graph: Softmaxes over Q·Kᵀ, fused operators, and the projections' widths. */

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
