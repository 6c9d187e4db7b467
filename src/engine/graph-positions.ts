import type { GraphNode } from './onnx-decode';
import { VIEW_OPS, type GraphIndex } from './graph-index';

/** Token and positional embeddings in a decoder graph: learned tables, rotary cos/sin, or none. */

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
