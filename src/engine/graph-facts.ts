import type { GraphPlan, GraphSummary } from './onnx-graph';

/** The notebook's views of a model, as the model list reports them. */
export const VIEW_NAMES = ['tokens', 'embeddings', 'attention', 'predict', 'logitLens'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export interface ViewSupport {
  view: ViewName;
  ok: boolean;
  /** Why the view cannot be shown (a plain sentence), or null when it can. */
  reason: string | null;
}

/** What the model list shows of a graph, read from its protobuf without running it. */
export interface GraphFacts {
  opset: number;
  /** Elements of the weight initializers, a tied (transposed) copy counted once; packed 4-bit weights count two per byte. */
  parameters: number;
  /** The weights' number format, e.g. "float32", "float16", "int8 (quantized)". */
  precision: string;
  inputs: string[];
  views: ViewSupport[];
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

/** Operators that turn packed integer weights back into floats. */
const QUANTIZED_OPS = new Set(['DequantizeLinear', 'MatMulInteger', 'DynamicQuantizeLinear', 'QLinearMatMul', 'MatMulNBits', 'GatherBlockQuantized']);

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
  let copies = 0;
  const counted = new Set<string>();
  for (const [nameA, [m = 0, n = 0]] of matrices) {
    for (const [nameB, [p = 0, q = 0]] of matrices) {
      if (nameA >= nameB || m === n || p !== n || q !== m || counted.has(nameB) || counted.has(nameA)) continue;
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
  const quantizedOps = [...new Set(graph.nodes.filter((n) => QUANTIZED_OPS.has(n.opType)).map((n) => n.opType))];
  const isQuantized = main === '4-bit' || Object.values(WEIGHT_TYPES).some((t) => t.name === main && t.quantized);
  const precision = isQuantized ? `${main} (quantized${quantizedOps.length ? `: ${quantizedOps.join(', ')}` : ''})` : main;
  return { parameters: parameters - tiedCopyElements(graph), precision };
}

function views(plan: GraphPlan): ViewSupport[] {
  const has = (role: string): boolean => plan.probes.some((p) => p.role === role);
  const support = (view: ViewName, reason: string | null): ViewSupport => ({ view, ok: reason === null, reason });
  const attentionReason =
    has('attention') ? null
    : plan.fusedAttention.length > 0 ? `attention is computed inside fused ${plan.fusedAttention.join(', ')} operators, so its weights never exist as a tensor`
    : 'no Softmax over the keys was found in the graph, so there are no attention weights to show';
  return [
    support('tokens', null),
    support('embeddings', has('token-embedding') ? null : 'no embedding-table lookup (a Gather on input_ids) was found in the graph'),
    support('attention', attentionReason),
    support('predict', null),
    support('logitLens', 'unavailable' in plan.lens ? plan.lens.unavailable : null),
  ];
}

/** Facts about a decoded and planned graph, for the model list and the import check. */
export function graphFacts(graph: GraphSummary, plan: GraphPlan): GraphFacts {
  return { opset: plan.opset, ...weightFormat(graph), inputs: plan.inputs.map((i) => i.name), views: views(plan) };
}

/** The largest number the logits can index: the last dimension of the logits output, when it is fixed. */
export function logitsWidth(plan: GraphPlan, graph: GraphSummary): number | null {
  const dims = graph.outputs.find((o) => o.name === plan.logitsOutput)?.dims ?? [];
  const last = dims.at(-1);
  return typeof last === 'number' && last > 0 ? last : null;
}

/** Operator domains ONNX Runtime Web implements kernels for. */
const KNOWN_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'com.microsoft.nchwc', 'com.ms.internal.nhwc']);

/** Operators from custom domains no runtime here implements, as "domain.Op" (found before trying to load). */
export function unknownDomainOperators(graph: GraphSummary): string[] {
  return [...new Set(graph.nodes.filter((n) => !KNOWN_DOMAINS.has(n.domain)).map((n) => `${n.domain}.${n.opType}`))];
}
