import type { GraphNode, GraphSummary } from './onnx-decode';

/**
 * Recognisers for the parts of a decoder graph the engine instruments: norms (fused or spelled out
 * in elementary operators), attention (a Softmax over Q·Kᵀ, or a fused operator), positional
 * information and the query/key projections (graph-norms.ts, graph-attention.ts, graph-positions.ts),
 * over the index of producers and consumers here. They read only the graph's structure and small
 * constants, so they work on graphs from torch.onnx, Optimum or onnx.helper alike.
 */

/** Operators that only move, reshape or convert values: the same tensor seen through them. */
export const VIEW_OPS = new Set(['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Expand', 'Flatten']);

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
