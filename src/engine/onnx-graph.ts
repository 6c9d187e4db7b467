import onnxProto from 'onnx-proto';
import { bfloat16ToFloat, halfToFloat, ONNX_TYPE } from './tensor-data';
import {
  findAttention,
  findNorms,
  findPositions,
  GraphIndex,
  nearestNormBefore,
  projectionWidths,
  weightMatrix,
  type NormSite,
  type PositionKind,
} from './graph-patterns';
import { planFusedAttention, type FusedPlan } from './fused-attention';

const { onnx } = onnxProto;

export type { PositionKind } from './graph-patterns';

/** What a tensor that the engine adds as a graph output stands for. */
export type ProbeRole = 'attention' | 'attention-values' | 'token-embedding' | 'position-embedding' | 'embedding-sum' | 'residual' | 'residual-mid';

export interface Probe {
  role: ProbeRole;
  /** Name of the tensor in the graph. */
  tensor: string;
  /** Node that produces it, for messages and the model view. */
  node: string;
  /** 0-based layer for attention probes, in graph order; for residual probes the block the stream
   * enters (the number of layers for the stream entering the final norm). */
  layer: number;
}

export type GraphInput = ValueInfo;

/** How the graph computes attention, as far as its structure shows. */
export interface AttentionLayout {
  /** A Softmax per layer that the engine observes, fused operators that hide the weights, or nothing recognisable. */
  source: 'softmax' | 'fused' | 'none';
  layers: number;
  /** Output widths of the query and key projections (heads × head size, kv-heads × head size), when readable. */
  queryWidth: number | null;
  keyWidth: number | null;
  /** Head counts read from fused operators' attributes (num_heads, kv_num_heads). */
  heads: number | null;
  kvHeads: number | null;
}

/** A node the backend cannot run, named for error messages. */
export interface OperatorRef {
  opType: string;
  domain: string;
  node: string;
}

/** The parts of an ONNX decoder graph the engine feeds and instruments. */
export interface GraphPlan {
  opset: number;
  inputs: GraphInput[];
  logitsOutput: string;
  probes: Probe[];
  /** Operator types of every node, to name unsupported ones in errors. */
  opTypes: string[];
  /** Fused attention operators (domain-qualified, e.g. "com.microsoft.MultiHeadAttention"): their probabilities are not observable. */
  fusedAttention: string[];
  attention: AttentionLayout;
  /** Fused attention operators' weights recomputed beside them (fused-attention.ts), or why not; null without fused operators. */
  fusedRecompute: FusedPlan | null;
  /** How positions enter: learned embeddings added to the tokens, rotary (applied to queries and keys), or none found. */
  positions: PositionKind;
  /** For rotary positions, the cos and sin tensors, when the graph has them as tensors. */
  rotary: { cos: string; sin: string } | null;
  /** Why the residual stream is not probed, when it is not. */
  residualNote: string | null;
  /** Nodes in operator domains no ONNX Runtime build knows (custom operators), found before any session is tried. */
  unknownOperators: OperatorRef[];
  /** What the logit lens needs: the final norm and the unembedding, or why it cannot be built. */
  lens: LensParams | { unavailable: string };
}

/** The final LayerNorm (or RMSNorm) and the unembedding matrix, read from the graph's weights. */
export interface LensParams {
  norm: 'layer' | 'rms';
  gamma: Float32Array;
  beta: Float32Array | null;
  epsilon: number;
  /** Row-major [hidden][vocab]. */
  unembedding: Float32Array;
  bias: Float32Array | null;
  hidden: number;
  vocab: number;
}

/** Finds the final norm and the unembedding that turn the last residual stream into logits. */
function planLens(ix: GraphIndex, logits: string, finalNorm: NormSite | null): LensParams | { unavailable: string } {
  const graph = ix.graph;
  if (!finalNorm) return { unavailable: 'no final LayerNorm or RMSNorm was found before the logits' };
  let head = ix.producer.get(ix.through(logits, ['Reshape', 'Identity', 'Cast']));
  let biasName: string | null = null;
  if (head?.opType === 'Add') {
    const bias = head.inputs.find((t) => ix.isConstant(t));
    const other = head.inputs.find((t) => !ix.isConstant(t));
    biasName = bias ? ix.through(bias) : null;
    head = ix.producer.get(ix.through(other ?? '', ['Reshape', 'Identity', 'Cast']));
  }
  if (!head) return { unavailable: 'the logits have no producing node' };
  if (head.opType !== 'MatMul' && head.opType !== 'Gemm') return { unavailable: `the logits come from a ${head.opType} operator, not a MatMul or Gemm` };
  if (head.opType === 'Gemm' && head.inputs[2]) biasName = ix.through(head.inputs[2]);
  if (ix.through(head.inputs[0] ?? '', ['Reshape', 'Identity', 'Cast', 'Flatten']) !== finalNorm.output) {
    return { unavailable: 'the logits are not computed straight from the final norm' };
  }
  const w = weightMatrix(ix, head);
  const weights = w ? graph.initializerFloats(w.name) : null;
  if (!w || !weights) return { unavailable: 'the unembedding matrix is not a float initializer of the graph' };
  const { in: hidden, out: vocab } = w;
  const unembedding = w.transposed ? new Float32Array(hidden * vocab) : weights;
  if (w.transposed) for (let v = 0; v < vocab; v++) for (let h = 0; h < hidden; h++) unembedding[h * vocab + v] = weights[v * hidden + h] ?? 0;
  const gamma = finalNorm.gamma ? graph.initializerFloats(finalNorm.gamma) ?? floats(graph, finalNorm.gamma) : new Float32Array(hidden).fill(1);
  if (!gamma || gamma.length !== hidden) return { unavailable: 'the final norm\'s scale is not a float weight of the expected width' };
  const beta = finalNorm.beta ? graph.initializerFloats(finalNorm.beta) ?? floats(graph, finalNorm.beta) : null;
  if (finalNorm.beta && beta?.length !== hidden) return { unavailable: 'the final norm\'s shift is not a float weight of the expected width' };
  const bias = biasName ? graph.initializerFloats(biasName) ?? floats(graph, biasName) : null;
  return { norm: finalNorm.kind, gamma, beta, epsilon: finalNorm.epsilon, unembedding, bias: bias?.length === vocab ? bias : null, hidden, vocab };
}

function floats(graph: GraphSummary, name: string): Float32Array | null {
  const values = graph.constantValues(name);
  return values ? Float32Array.from(values) : null;
}

/** Operator domains ONNX Runtime knows; a node in any other needs a custom-operator library the app cannot load. */
const KNOWN_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'com.microsoft.nchwc', 'com.ms.internal.nhwc', 'com.microsoft.experimental', 'ai.onnx.preview.training']);

/** Query heads and key/value heads: fused operators' attributes first, then the projection widths, then config.json's counts. */
export function headCounts(plan: GraphPlan, config: { heads: number; kvHeads: number }): { heads: number; kvHeads: number } {
  const { attention } = plan;
  const heads = attention.heads ?? config.heads;
  if (attention.kvHeads !== null) return { heads, kvHeads: attention.kvHeads };
  const { queryWidth: q, keyWidth: k } = attention;
  if (q && k && (heads * k) % q === 0 && heads * k >= q) return { heads, kvHeads: (heads * k) / q };
  return { heads, kvHeads: config.kvHeads };
}

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

export interface GraphNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Numeric attributes (epsilon, axis, transB, ...). */
  attributes: Record<string, number>;
  /** Integer-list attributes (axes, perm, split, ...). */
  ints?: Record<string, number[]>;
}

interface ValueInfo {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

/** The parts of a decoded ONNX model the planner reads, with protobuf's optional fields settled. */
export interface GraphSummary {
  opset: number;
  nodes: GraphNode[];
  initializerDims: Map<string, number[]>;
  /** ONNX data type of each initializer (1 float32, 10 float16, 3 int8, 2 uint8, 22 int4, ...). */
  initializerTypes: Map<string, number>;
  /** Files that initializers keep their data in (external data, e.g. "model.onnx_data"). */
  externalFiles: string[];
  /** Float contents of an initializer, or null when it is not a float tensor stored in the file. */
  initializerFloats(name: string): Float32Array | null;
  /** The stored bytes of an 8-bit integer initializer (int8 or uint8: quantized weights), else null. */
  initializerBytes(name: string): { dataType: number; bytes: Uint8Array } | null;
  /** Contents of a small constant (an initializer or a Constant node's output) of a numeric type, else null. */
  constantValues(name: string): number[] | null;
  /** Whether a tensor is fixed by the file: an initializer or the output of a Constant node. */
  isConstant(name: string): boolean;
  /** Functions the model defines itself, as "domain:name": their nodes need no kernel of their own. */
  functions: Set<string>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function tensorFloats(t: onnxProto.onnx.ITensorProto): Float32Array | null {
  const raw = t.rawData;
  if (t.dataType === 1) {
    if (raw && raw.length > 0) {
      // A fresh, aligned copy (under Node, protobufjs hands out Buffers whose slice() is a view).
      const copy = new Uint8Array(raw.byteLength);
      copy.set(raw);
      return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    }
    return t.floatData && t.floatData.length > 0 ? Float32Array.from(t.floatData) : null;
  }
  if ((t.dataType === ONNX_TYPE.float16 || t.dataType === ONNX_TYPE.bfloat16) && raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const decode = t.dataType === ONNX_TYPE.float16 ? halfToFloat : bfloat16ToFloat;
    return Float32Array.from({ length: raw.byteLength / 2 }, (_, i) => decode(view.getUint16(i * 2, true)));
  }
  // float16 written as int32_data (one value per element), as some converters do.
  if ((t.dataType === ONNX_TYPE.float16 || t.dataType === ONNX_TYPE.bfloat16) && t.int32Data && t.int32Data.length > 0) {
    return Float32Array.from(t.int32Data, t.dataType === ONNX_TYPE.float16 ? halfToFloat : bfloat16ToFloat);
  }
  return null;
}

/** Numbers of a small numeric tensor (float, double, float16, bfloat16, int8, uint8, int32, int64); null for other types or none stored. */
function tensorNumbers(t: onnxProto.onnx.ITensorProto): number[] | null {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  switch (t.dataType) {
    case 1:
    case 10:
    case 16: {
      const floats = tensorFloats(t);
      return floats ? Array.from(floats) : null;
    }
    case 11:
      if (view) return Array.from({ length: view.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true));
      return t.doubleData && t.doubleData.length > 0 ? [...t.doubleData] : null;
    case 2:
    case 3:
      if (view) return Array.from({ length: view.byteLength }, (_, i) => (t.dataType === 3 ? view.getInt8(i) : view.getUint8(i)));
      return t.int32Data && t.int32Data.length > 0 ? [...t.int32Data] : null;
    case 6:
      if (view) return Array.from({ length: view.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true));
      return t.int32Data && t.int32Data.length > 0 ? [...t.int32Data] : null;
    case 7:
      if (view) return Array.from({ length: view.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
      return t.int64Data && t.int64Data.length > 0 ? t.int64Data.map(toNumber) : null;
    default:
      return null;
  }
}

/** The value of a Constant node, as a tensor, from whichever of its attributes is set. */
function constantTensor(node: onnxProto.onnx.INodeProto): onnxProto.onnx.ITensorProto | null {
  const a = node.attribute?.[0];
  if (!a) return null;
  if (a.t) return a.t;
  if (a.name === 'value_float') return { dataType: 1, floatData: [a.f ?? 0] };
  if (a.name === 'value_floats') return { dataType: 1, dims: [a.floats?.length ?? 0], floatData: a.floats ?? [] };
  if (a.name === 'value_int') return { dataType: 7, int64Data: [a.i ?? 0] };
  if (a.name === 'value_ints') return { dataType: 7, dims: [a.ints?.length ?? 0], int64Data: a.ints ?? [] };
  return null;
}

function valueInfo(v: onnxProto.onnx.IValueInfoProto): ValueInfo {
  const tensorType = v.type?.tensorType;
  return {
    name: v.name ?? '',
    elemType: tensorType?.elemType ?? 0,
    dims: (tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue))),
  };
}

/** Bytes per element of the ONNX data types whose elements are whole bytes (int4 and strings are not). */
const ELEMENT_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
/** ONNX Runtime Web counts elements in 32 bits: no dimension can be larger. */
export const MAX_DIMENSION = 2 ** 31 - 1;

/** Refuses a declared shape no tensor can have (negative, fractional, beyond 32 bits), naming it. */
function checkDims(file: string, what: string, dims: readonly (number | string)[]): void {
  dims.forEach((d, i) => {
    if (typeof d === 'number' && !(Number.isSafeInteger(d) && d >= 0 && d <= MAX_DIMENSION)) {
      throw new Error(`${file}: ${what} declares dimension ${i} as ${d}; a dimension is a whole number from 0 to ${MAX_DIMENSION}`);
    }
  });
}

/** How many elements an initializer holds (inline, or by its external data's length); null where that is not known. */
function storedElements(t: onnxProto.onnx.ITensorProto, bytesPerElement: number): number | null {
  if (t.dataLocation === 1) {
    const length = t.externalData?.find((e) => e.key === 'length')?.value;
    return length ? Number(length) / bytesPerElement : null;
  }
  if (t.rawData && t.rawData.length > 0) return t.rawData.length / bytesPerElement;
  for (const list of [t.floatData, t.int32Data, t.int64Data, t.doubleData, t.uint64Data]) if (list && list.length > 0) return list.length;
  return 0;
}

/** Parses ONNX bytes; names the file and cause when they are not an ONNX model. */
export function decodeModel(bytes: Uint8Array, file = 'model.onnx', external: ReadonlyMap<string, Uint8Array> = new Map()): GraphSummary {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new Error(`${file}: not a readable ONNX model (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) {
    throw new Error(`${file}: not an ONNX model (no graph or no nodes found)`);
  }
  const opset = Math.max(
    0,
    ...(model.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx').map((o) => toNumber(o.version)),
  );
  const initializerDims = new Map<string, number[]>();
  const initializerTypes = new Map<string, number>();
  const initializers = new Map<string, onnxProto.onnx.ITensorProto>();
  const externalFiles = new Set<string>();
  for (const init of graph.initializer ?? []) {
    const dims = (init.dims ?? []).map(toNumber);
    checkDims(file, `initializer "${init.name ?? ''}"`, dims);
    const bytesPerElement = ELEMENT_BYTES[init.dataType ?? 0];
    const stored = bytesPerElement === undefined ? null : storedElements(init, bytesPerElement);
    const declared = dims.reduce((a, b) => a * b, 1);
    if (stored !== null && stored !== declared) {
      throw new Error(`${file}: initializer "${init.name ?? ''}" declares dimensions [${dims.join(', ')}] (${declared} values) but holds ${stored}`);
    }
    initializerDims.set(init.name ?? '', dims);
    initializerTypes.set(init.name ?? '', init.dataType ?? 0);
    if (init.dataLocation === 1) {
      const location = init.externalData?.find((e) => e.key === 'location')?.value;
      if (location) externalFiles.add(location);
    }
    initializers.set(init.name ?? '', init);
  }
  const constants = new Map<string, onnxProto.onnx.ITensorProto>();
  for (const n of graph.node) {
    const out = n.output?.[0];
    const value = n.opType === 'Constant' && !n.domain ? constantTensor(n) : null;
    if (out && value) constants.set(out, value);
  }
  /** An initializer with its bytes in hand: inline, or read from the external data file at its offset and length. */
  const stored = (name: string): onnxProto.onnx.ITensorProto | null => {
    const t = initializers.get(name);
    if (!t || t.dataLocation !== 1) return t ?? null;
    const entry = (key: string): string | undefined => t.externalData?.find((e) => e.key === key)?.value ?? undefined;
    const data = external.get(entry('location') ?? '');
    if (!data) return null;
    const offset = Number(entry('offset') ?? '0');
    const length = Number(entry('length') ?? String(data.byteLength - offset));
    return { dataType: t.dataType, rawData: data.subarray(offset, offset + length) };
  };
  for (const [kind, list] of [['input', graph.input], ['output', graph.output]] as const) {
    for (const v of list ?? []) checkDims(file, `graph ${kind} "${v.name ?? ''}"`, valueInfo(v).dims);
  }
  return {
    opset,
    nodes: graph.node.map((n) => ({
      name: n.name ?? '',
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attributes: Object.fromEntries(
        (n.attribute ?? []).filter((a) => a.name && (a.type === 1 || a.type === 2)).map((a) => [a.name ?? '', a.type === 1 ? (a.f ?? 0) : toNumber(a.i)]),
      ),
      ints: Object.fromEntries((n.attribute ?? []).filter((a) => a.name && a.type === 7).map((a) => [a.name ?? '', (a.ints ?? []).map(toNumber)])),
    })),
    initializerDims,
    initializerTypes,
    externalFiles: [...externalFiles],
    initializerFloats: (name: string) => {
      const t = stored(name);
      return t ? tensorFloats(t) : null;
    },
    initializerBytes: (name: string) => {
      const t = stored(name);
      if (!t || (t.dataType !== ONNX_TYPE.int8 && t.dataType !== ONNX_TYPE.uint8)) return null;
      if (t.rawData && t.rawData.length > 0) return { dataType: t.dataType, bytes: t.rawData };
      // 8-bit values written one per int32_data entry.
      return t.int32Data && t.int32Data.length > 0 ? { dataType: t.dataType, bytes: Uint8Array.from(t.int32Data, (v) => v & 0xff) } : null;
    },
    constantValues: (name: string) => {
      const t = initializers.get(name) ?? constants.get(name);
      return t ? tensorNumbers(t) : null;
    },
    isConstant: (name: string) => initializers.has(name) || constants.has(name),
    functions: new Set((model.functions ?? []).map((f) => `${f.domain ?? ''}:${f.name ?? ''}`)),
    inputs: (graph.input ?? []).map(valueInfo).filter((i) => !initializerDims.has(i.name)),
    outputs: (graph.output ?? []).map(valueInfo),
  };
}

/** The MatMul that multiplies attention probabilities by the values (probs · V), through casts and identities. */
export function valueMatMul(ix: GraphIndex, probs: string): GraphNode | null {
  let tensor = probs;
  for (let hop = 0; hop < 4; hop++) {
    const uses = ix.consumers.get(tensor) ?? [];
    const matmul = uses.find((n) => n.opType === 'MatMul' && n.inputs[0] === tensor);
    if (matmul) return matmul;
    const pass = uses.find((n) => n.opType === 'Cast' || n.opType === 'Identity' || n.opType === 'Dropout');
    if (!pass?.outputs[0]) return null;
    tensor = pass.outputs[0];
  }
  return null;
}

/** The ONNX operator sets the engine reads: what torch.onnx and Optimum export today, and opset 23 (ONNX's own Attention operator). */
export const OPSET_RANGE = { min: 13, max: 23 } as const;

/** Finds the inputs, the logits and the tensors worth observing in a decoder graph. */
export function planGraph(graph: GraphSummary, file = 'model.onnx'): GraphPlan {
  const { inputs } = graph;
  if (graph.opset < OPSET_RANGE.min || graph.opset > OPSET_RANGE.max) {
    throw new Error(
      `${file}: ONNX opset ${graph.opset} is outside the range ${OPSET_RANGE.min}–${OPSET_RANGE.max} this app reads; export the model again with an opset_version from ${OPSET_RANGE.min} to ${OPSET_RANGE.max}`,
    );
  }
  if (!inputs.some((i) => i.name === 'input_ids')) {
    throw new Error(`${file}: the graph has no "input_ids" input (inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  const outputs = graph.outputs.map((o) => o.name);
  const logitsOutput = outputs.includes('logits') ? 'logits' : undefined;
  if (!logitsOutput) {
    throw new Error(`${file}: the graph has no "logits" output (outputs: ${outputs.join(', ') || 'none'})`);
  }
  const ix = new GraphIndex(graph);
  const probes: Probe[] = [];
  const probe = (role: ProbeRole, tensor: string | undefined, node: { name: string } | null | undefined, layer: number): void => {
    if (tensor) probes.push({ role, tensor, node: node?.name || tensor, layer });
  };

  const positions = findPositions(ix);
  probe('token-embedding', positions.tokenOutput ?? undefined, positions.token, -1);
  probe('position-embedding', positions.positionOutput ?? undefined, positions.position, -1);
  probe('embedding-sum', positions.sum?.outputs[0], positions.sum, -1);

  const sites = findAttention(ix);
  const observed = sites.filter((s) => s.kind === 'softmax');
  const fusedSites = sites.filter((s) => s.kind === 'fused');
  observed.forEach((s, layer) => probe('attention', s.probs ?? undefined, s.node, layer));
  // The value vectors each layer's weights multiply (probs · V): the weighted sum made concrete.
  const values = observed.map((s) => (s.probs ? valueMatMul(ix, s.probs) : null));
  if (values.every((v) => v !== null)) values.forEach((v, layer) => probe('attention-values', v?.inputs[1], v, layer));
  // Fused operators: their weights recomputed from their own inputs, in the same pass (fused-attention.ts).
  const fusedRecompute = observed.length === 0 && fusedSites.length > 0 ? planFusedAttention(fusedSites.map((s) => s.node)) : null;
  if (fusedRecompute?.ok) {
    fusedRecompute.layers.forEach((l, layer) => probe('attention', l.probs, fusedSites[layer]?.node, layer));
    fusedRecompute.layers.forEach((l, layer) => probe('attention-values', l.values, fusedSites[layer]?.node, layer));
  }
  const firstScores = observed[0]?.scores;
  const widths = firstScores ? projectionWidths(ix, firstScores) : null;
  const fusedNode = fusedSites[0]?.node;
  const attr = (name: string): number | null => {
    const v = fusedNode?.attributes[name];
    return v !== undefined && v > 0 ? v : null;
  };
  const attention: AttentionLayout = {
    source: observed.length > 0 ? 'softmax' : fusedSites.length > 0 ? 'fused' : 'none',
    layers: observed.length > 0 ? observed.length : fusedSites.length,
    queryWidth: widths?.query ?? null,
    keyWidth: widths?.key ?? null,
    heads: attr('num_heads') ?? attr('q_num_heads'),
    kvHeads: attr('kv_num_heads') ?? (fusedNode && attr('num_heads') ? attr('num_heads') : null),
  };

  // The residual stream enters each pre-norm block through the norm that feeds its attention, and the
  // head through the norm that feeds the logits.
  const norms = findNorms(ix);
  const blockSites = observed.length > 0 ? observed : fusedSites;
  const blockNorms = blockSites.map((s) => nearestNormBefore(ix, norms, s.node.inputs));
  const logitsNode = ix.producer.get(logitsOutput);
  const finalNorm = logitsNode ? nearestNormBefore(ix, norms, logitsNode.inputs) : null;
  let residualNote: string | null = null;
  const boundaries = [...blockNorms, finalNorm];
  if (blockSites.length === 0) residualNote = 'no attention layers were recognised, so the blocks and their boundaries are unknown';
  else if (norms.length === 0) residualNote = 'no LayerNorm or RMSNorm (fused or spelled out) was recognised';
  else if (boundaries.some((n) => n === null)) residualNote = 'some blocks have no norm before their attention (not a pre-norm decoder)';
  else if (new Set(boundaries).size !== boundaries.length) residualNote = 'the norms before the blocks could not be told apart';
  else if (boundaries.some((n) => !n?.input)) {
    residualNote = `the norms are fused with the residual addition (${boundaries.find((n) => !n?.input)?.op}), so the stream between blocks is never a tensor`;
  } else {
    boundaries.forEach((n, i) => probe('residual', n?.input ?? undefined, { name: n?.node ?? '' }, i));
    // Inside each block, the stream after the attention's addition enters the block's second norm
    // (before the MLP): the one norm between this block's first norm and the next boundary.
    const mids = blockNorms.map((start, l) => {
      const end = boundaries[l + 1];
      const inside = norms.filter((n) => start && end && n.order > start.order && n.order < end.order);
      return inside.length === 1 && inside[0]?.input ? inside[0] : null;
    });
    if (mids.every((n) => n !== null)) mids.forEach((n, l) => probe('residual-mid', n?.input ?? undefined, { name: n?.node ?? '' }, l));
  }

  const operators = new Map<string, OperatorRef>();
  for (const n of graph.nodes) {
    const domain = n.domain === 'ai.onnx' ? '' : n.domain;
    const key = `${domain}:${n.opType}`;
    if (!operators.has(key)) operators.set(key, { opType: n.opType, domain, node: n.name });
  }
  const qualified = (o: OperatorRef): string => `${o.domain ? `${o.domain}.` : ''}${o.opType}`;
  const opTypes = [...operators.values()].map(qualified).sort();
  const unknownOperators = [...operators.values()].filter((o) => !KNOWN_DOMAINS.has(o.domain) && !graph.functions.has(`${o.domain}:${o.opType}`));
  const fusedAttention = [...new Set(fusedSites.map((s) => qualified({ opType: s.node.opType, domain: s.node.domain, node: '' })))];
  const lens = residualNote === null ? planLens(ix, logitsOutput, finalNorm) : { unavailable: `the residual stream between blocks could not be located: ${residualNote}` };
  return {
    opset: graph.opset,
    inputs,
    logitsOutput,
    probes,
    opTypes,
    fusedAttention,
    attention,
    fusedRecompute,
    positions: positions.kind,
    rotary: positions.rotary,
    residualNote,
    unknownOperators,
    lens,
  };
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function readVarint(bytes: Uint8Array, start: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  let pos = start;
  for (;;) {
    const b = bytes[pos];
    if (b === undefined) throw new Error('truncated varint');
    value += (b & 0x7f) * scale;
    pos++;
    if (b < 0x80) return [value, pos];
    scale *= 0x80;
  }
}

/**
 * Returns model bytes whose graph also outputs `tensors`. The graph message is extended in place
 * (protobuf appends repeated fields), so the weights are copied once and never re-encoded. The
 * outputs are declared without a type: ONNX Runtime gives each the type its producer computes
 * (float32, float16, int8, ...), and the session's output metadata then says which.
 */
export function addGraphOutputs(bytes: Uint8Array, tensors: readonly string[]): Uint8Array {
  if (tensors.length === 0) return bytes;
  const extra: number[] = [];
  // One tensor can serve two probes (the embedding sum is also the stream entering block 0): output it once.
  for (const name of new Set(tensors)) {
    const info = onnx.ValueInfoProto.encode({ name }).finish();
    extra.push(...varint((12 << 3) | 2), ...varint(info.length), ...info);
  }
  let pos = 0;
  while (pos < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 2) {
      const [length, afterLength] = readVarint(bytes, afterTag);
      const end = afterLength + length;
      if (field === 7) {
        const header = [...varint(tag), ...varint(length + extra.length)];
        const out = new Uint8Array(bytes.length - (afterLength - pos) + header.length + extra.length);
        out.set(bytes.subarray(0, pos), 0);
        out.set(header, pos);
        out.set(bytes.subarray(afterLength, end), pos + header.length);
        out.set(extra, pos + header.length + length);
        out.set(bytes.subarray(end), pos + header.length + length + extra.length);
        return out;
      }
      pos = end;
    } else if (wire === 0) {
      pos = readVarint(bytes, afterTag)[1];
    } else if (wire === 1) {
      pos = afterTag + 8;
    } else if (wire === 5) {
      pos = afterTag + 4;
    } else {
      throw new Error(`model.onnx: unexpected protobuf wire type ${wire}`);
    }
  }
  throw new Error('model.onnx: no graph field found');
}

/** The bool input of Optimum's merged decoders that picks the branch with the key/value cache. */
const USE_CACHE_BRANCH = 'use_cache_branch';

/** Whether the graph is a merged decoder: an If on `use_cache_branch` choosing with or without past. */
export function isMergedDecoder(graph: GraphSummary): boolean {
  return graph.inputs.some((i) => i.name === USE_CACHE_BRANCH) && graph.nodes.some((n) => n.opType === 'If');
}

/**
 * A merged decoder (Optimum's decoder_model_merged.onnx) keeps both decoders as the branches of an
 * If node, where their attention and residual tensors cannot become graph outputs. Since the app runs
 * the whole prompt at once (an empty past), this returns the model with the If replaced by its
 * no-cache branch inlined into the main graph, and the inputs only the other branch read (the
 * past_key_values and use_cache_branch) removed. The weights are re-encoded once.
 */
export function inlineNoCacheBranch(bytes: Uint8Array, file = 'model.onnx'): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  const index = graph?.node?.findIndex((n) => n.opType === 'If' && n.input?.[0] === USE_CACHE_BRANCH) ?? -1;
  const ifNode = graph?.node?.[index];
  const branch = ifNode?.attribute?.find((a) => a.name === 'else_branch')?.g;
  if (!graph?.node || !ifNode || !branch) throw new Error(`${file}: no If node on "${USE_CACHE_BRANCH}" with an else branch was found`);
  const outputs = branch.output ?? [];
  // Each branch output becomes the If output of the same position.
  const bridge = (ifNode.output ?? []).flatMap((name, i) => {
    const from = outputs[i]?.name;
    return from && from !== name ? [onnx.NodeProto.create({ name: `inlined/${name}`, opType: 'Identity', input: [from], output: [name] })] : [];
  });
  graph.node.splice(index, 1, ...(branch.node ?? []), ...bridge);
  graph.initializer = [...(graph.initializer ?? []), ...(branch.initializer ?? [])];
  graph.valueInfo = [...(graph.valueInfo ?? []), ...(branch.valueInfo ?? [])];
  const read = new Set<string>();
  const visit = (nodes: onnxProto.onnx.INodeProto[]): void => {
    for (const n of nodes) {
      for (const i of n.input ?? []) read.add(i);
      for (const a of n.attribute ?? []) {
        if (a.g?.node) visit(a.g.node);
        for (const g of a.graphs ?? []) visit(g.node ?? []);
      }
    }
  };
  visit(graph.node);
  const outputsRead = new Set((graph.output ?? []).map((o) => o.name));
  graph.input = (graph.input ?? []).filter((i) => read.has(i.name ?? '') || outputsRead.has(i.name ?? ''));
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The bytes the engine instruments and their decoded graph: the file as it is, or for a merged
 * decoder the file with its no-cache branch inlined.
 */
export function prepareGraph(
  bytes: Uint8Array,
  file = 'model.onnx',
  external: ReadonlyMap<string, Uint8Array> = new Map(),
): { bytes: Uint8Array; graph: GraphSummary; merged: boolean } {
  const graph = decodeModel(bytes, file, external);
  if (!isMergedDecoder(graph)) return { bytes, graph, merged: false };
  const inlined = inlineNoCacheBranch(bytes, file);
  return { bytes: inlined, graph: decodeModel(inlined, file, external), merged: true };
}
