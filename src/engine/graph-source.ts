import { addFusedRecompute, type FusedPlan } from './fused-attention';
import type { GraphSummary } from './onnx-decode';
import { prepareGraph } from './onnx-edit';

/** The prepared graph a model's later sessions and views are built from. */
export interface PreparedGraph {
  graph: GraphSummary;
  /** The bytes of the instrumented session (with the fused attention's recomputation where it has one). */
  observed: Uint8Array;
  /** The graph as it is, for the logits-only session of a recomputed model; null without one. */
  plain: Uint8Array | null;
}

/**
 * Where the prepared graph comes from after the sessions are created: kept in memory (a page that
 * fetched the bytes), or read again from the host's file when asked for (Node hosts: `reread`), so
 * that the model's bytes are not held a second time beside ONNX Runtime's own copy of the weights.
 */
export class GraphSource {
  constructor(
    readonly file: string,
    readonly external: readonly { path: string; data: Uint8Array }[],
    private readonly kept: PreparedGraph | null,
    private readonly reread: (() => PreparedGraph) | null,
  ) {}

  /** Whether the graph is kept (as the session was made from it), rather than read again as the file has it. */
  get isKept(): boolean {
    return this.kept !== null;
  }

  get(): PreparedGraph {
    if (this.kept) return this.kept;
    if (!this.reread) throw new Error(`${this.file}: the graph is not available`);
    return this.reread();
  }
}

/**
 * Reads and prepares the graph again as `OnnxModel.load` did. A file whose size changed since the
 * load is refused: its graph would not be the one the sessions run.
 */
export function rereader(read: () => Uint8Array, size: number, file: string, recompute: (FusedPlan & { ok: true }) | null, hasPlain: boolean): () => PreparedGraph {
  return () => {
    const bytes = read();
    if (bytes.byteLength !== size) throw new Error(`${file} changed on disk since the model was loaded (${size} bytes then, ${bytes.byteLength} now); load the model again`);
    const prepared = prepareGraph(bytes, file, new Map(), 'then_branch');
    const observed = recompute ? addFusedRecompute(prepared.bytes, recompute, prepared.graph.nodes, file) : prepared.bytes;
    return { graph: prepared.graph, observed, plain: hasPlain ? prepared.bytes : null };
  };
}
