import type { GraphNode } from './onnx-decode';
import type { GraphIndex } from './graph-index';

/** Normalisations in a decoder graph (graph-index.ts has the recognisers' shared index). */

const FUSED_NORMS: Record<string, { kind: 'layer' | 'rms'; skip: boolean }> = {
  LayerNormalization: { kind: 'layer', skip: false },
  SimplifiedLayerNormalization: { kind: 'rms', skip: false },
  RMSNormalization: { kind: 'rms', skip: false },
  SkipLayerNormalization: { kind: 'layer', skip: true },
  SkipSimplifiedLayerNormalization: { kind: 'rms', skip: true },
};

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
