import { headCounts, type GraphPlan } from './onnx-graph';
import { type GraphSummary } from './onnx-decode';
import { supportedViews, VIEW_NAMES, type ViewName } from './supported-views';

/** One view of the notebook and whether this graph supports it, as plain data for the model list. */
export interface ViewFact {
  view: ViewName;
  ok: boolean;
  /** Why the view cannot be shown, or null when it can. */
  reason: string | null;
  /** Something worth knowing when it can (rotary positions, grouped-query attention), or null. */
  note: string | null;
}

/** What the model list shows of a graph, read from its protobuf without running it. */
export interface GraphFacts {
  opset: number;
  /** Elements of the weight initializers, a tied (transposed) copy counted once; packed 4-bit weights count two per byte. */
  parameters: number;
  /** The weights' number format, e.g. "float32", "fp16", "int8 dynamic (MatMulInteger)", "q4 block 32 (MatMulNBits)". */
  precision: string;
  inputs: string[];
  heads: number;
  kvHeads: number;
  views: ViewFact[];
}

/** ONNX TensorProto data types of weights, with a readable name and whether it is quantized. */
const WEIGHT_TYPES: Readonly<Record<number, { name: string; quantized: boolean }>> = {
  1: { name: 'float32', quantized: false },
  10: { name: 'float16', quantized: false },
  16: { name: 'bfloat16', quantized: false },
  11: { name: 'float64', quantized: false },
  3: { name: 'int8', quantized: true },
  2: { name: 'uint8', quantized: true },
  21: { name: 'uint4', quantized: true },
  22: { name: 'int4', quantized: true },
};

/** Whether `b` [n, m] holds the transpose of `a` [m, n]. */
function isTranspose(a: Float32Array, b: Float32Array, m: number, n: number): boolean {
  if (a.length !== m * n || b.length !== m * n) return false;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) if (a[i * n + j] !== b[j * m + i]) return false;
  return true;
}

/**
 * Elements of initializers that are a transposed copy of another: exporters write a tied LM head
 * (logits = h · wteᵀ) as a second, transposed matrix, which is not a parameter of its own.
 */
function tiedCopyElements(graph: GraphSummary): number {
  const matrices = [...graph.initializerDims].filter(([name, dims]) => dims.length === 2 && graph.initializerTypes.get(name) === 1);
  // Only an embedding table (the data a Gather looks rows up in) has a tied copy: comparing every pair
  // of transposed shapes read GPT-2 small's 12 × 12 MLP matrices in pairs (3 s) for nothing.
  const tables = new Set(graph.nodes.filter((node) => node.opType === 'Gather').map((node) => node.inputs[0] ?? ''));
  let copies = 0;
  const counted = new Set<string>();
  for (const [nameA, [m = 0, n = 0]] of matrices) {
    for (const [nameB, [p = 0, q = 0]] of matrices) {
      if (nameA >= nameB || m === n || p !== n || q !== m || counted.has(nameB) || counted.has(nameA)) continue;
      if (!tables.has(nameA) && !tables.has(nameB)) continue;
      const a = graph.initializerFloats(nameA);
      const b = graph.initializerFloats(nameB);
      if (a && b && isTranspose(a, b, m, n)) {
        copies += m * n;
        counted.add(nameB);
      }
    }
  }
  return copies;
}

/** The element type of most matrix weights (float32, float16, int8, ...), without counting parameters. */
function mainWeightType(graph: GraphSummary): string {
  const elements = new Map<string, number>();
  for (const [name, dims] of graph.initializerDims) {
    const type = WEIGHT_TYPES[graph.initializerTypes.get(name) ?? 0];
    if (type && dims.length >= 2) elements.set(type.name, (elements.get(type.name) ?? 0) + dims.reduce((a, b) => a * b, 1));
  }
  return [...elements].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
}

function weightFormat(graph: GraphSummary): { parameters: number; precision: string } {
  const nBitsInputs = new Set(graph.nodes.filter((n) => n.opType === 'MatMulNBits' || n.opType === 'GatherBlockQuantized').map((n) => n.inputs[n.opType === 'MatMulNBits' ? 1 : 0] ?? ''));
  const elementsByType = new Map<string, number>();
  let parameters = 0;
  for (const [name, dims] of graph.initializerDims) {
    const type = WEIGHT_TYPES[graph.initializerTypes.get(name) ?? 0];
    if (!type || dims.length === 0) continue;
    let elements = dims.reduce((a, b) => a * b, 1);
    // MatMulNBits packs two 4-bit weights into each uint8.
    if (nBitsInputs.has(name)) elements *= 2;
    parameters += elements;
    // Only matrices count towards the format: biases, norms and scales stay in float either way.
    if (dims.length >= 2) {
      const label = nBitsInputs.has(name) ? '4-bit' : type.name;
      elementsByType.set(label, (elementsByType.get(label) ?? 0) + elements);
    }
  }
  const ranked = [...elementsByType].sort((a, b) => b[1] - a[1]);
  const main = ranked[0]?.[0] ?? 'unknown';
  return { parameters: parameters - tiedCopyElements(graph), precision: precisionLabel(graph, main) };
}

/**
 * The weights' format as people name it: `fp16`, `int8 dynamic` (ONNX Runtime's dynamic
 * quantization: MatMulInteger on activations quantized at run time), `int8 weights` (weights
 * dequantized before a float MatMul), `q4 block 32` (MatMulNBits), or the main weight type.
 */
export function precisionLabel(graph: GraphSummary, main = mainWeightType(graph)): string {
  const ops = new Set(graph.nodes.map((n) => n.opType));
  const nBits = graph.nodes.find((n) => n.opType === 'MatMulNBits' || n.opType === 'GatherBlockQuantized');
  if (nBits) {
    const bits = nBits.attributes['bits'] ?? 4;
    const block = nBits.attributes['block_size'];
    return `q${bits}${block ? ` block ${block}` : ''} (${nBits.opType})`;
  }
  if (ops.has('MatMulInteger') || ops.has('DynamicQuantizeLinear') || ops.has('DynamicQuantizeMatMul')) return `${main === 'uint8' ? 'uint8' : 'int8'} dynamic (MatMulInteger)`;
  if (ops.has('QLinearMatMul')) return `${main} static (QLinearMatMul)`;
  if (main === 'int8' || main === 'uint8') return `${main} weights (DequantizeLinear)`;
  if (main === 'float16') return 'fp16';
  if (main === 'bfloat16') return 'bf16';
  return main;
}

function views(plan: GraphPlan): ViewFact[] {
  const support = supportedViews(plan);
  return VIEW_NAMES.map((view) => {
    const v = support[view];
    return v.ok ? { view, ok: true, reason: null, note: v.note ?? null } : { view, ok: false, reason: v.reason, note: null };
  });
}

/** Facts about a decoded and planned graph, for the model list and the import check. */
export function graphFacts(graph: GraphSummary, plan: GraphPlan, config: { heads: number; kvHeads: number }): GraphFacts {
  return { opset: plan.opset, ...weightFormat(graph), ...headCounts(plan, config), inputs: plan.inputs.map((i) => i.name), views: views(plan) };
}

/** The largest number the logits can index: the last dimension of the logits output, when it is fixed. */
export function logitsWidth(plan: GraphPlan, graph: GraphSummary): number | null {
  const dims = graph.outputs.find((o) => o.name === plan.logitsOutput)?.dims ?? [];
  const last = dims.at(-1);
  return typeof last === 'number' && last > 0 ? last : null;
}
