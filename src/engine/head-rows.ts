import { decodeModel, type GraphNode } from './onnx-decode';
import { addLogitRows, headIsPositionWise } from './onnx-edit';
import { planGraph, type GraphPlan } from './onnx-graph';

/**
 * The tensor a graph's head (final norm, unembedding) reads, when running the head on chosen
 * positions gives those positions' logits exactly: the stream entering the final norm of a graph
 * whose head is position-wise; null otherwise.
 */
export function headStream(plan: GraphPlan, nodes: readonly GraphNode[]): string | null {
  const stream = plan.residualNote === null ? (plan.probes.filter((p) => p.role === 'residual').at(-1)?.tensor ?? null) : null;
  return stream && headIsPositionWise(nodes, stream, plan.logitsOutput) ? stream : null;
}

/**
 * A key/value-cache graph file (decoder_with_past) with its head on the last position, so that the
 * prompt's pass on the cache computes one row of logits; null when its head cannot be found or is
 * not position-wise (the file is then used as it is).
 */
export function cacheGraphOnLastRow(bytes: Uint8Array, file: string): Uint8Array | null {
  try {
    const graph = decodeModel(bytes, file);
    const stream = headStream(planGraph(graph, file), graph.nodes);
    return stream ? addLogitRows(bytes, stream, [], file) : null;
  } catch {
    return null;
  }
}
