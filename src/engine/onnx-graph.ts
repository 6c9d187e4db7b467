import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** What a tensor that the engine adds as a graph output stands for. */
export type ProbeRole = 'attention' | 'token-embedding' | 'position-embedding' | 'embedding-sum' | 'residual';

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

/** The parts of an ONNX decoder graph the engine feeds and instruments. */
export interface GraphPlan {
  opset: number;
  inputs: GraphInput[];
  logitsOutput: string;
  probes: Probe[];
  /** Operator types of every node, to name unsupported ones in errors. */
  opTypes: string[];
  /** Operators that compute attention in one fused kernel: their probabilities are not observable. */
  fusedAttention: string[];
  /** Data type of float outputs (1 = float32, 10 = float16). */
  floatType: number;
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

const NORMS = new Set(['LayerNormalization', 'SimplifiedLayerNormalization', 'RMSNormalization']);

/** Finds the final norm and the unembedding that turn the last residual stream into logits. */
function planLens(graph: GraphSummary, logits: string, finalNorm: GraphNode | undefined): LensParams | { unavailable: string } {
  if (!finalNorm) return { unavailable: 'no LayerNormalization or RMSNorm operator was found before the logits' };
  const producer = graph.nodes.find((n) => n.outputs.includes(logits));
  if (!producer) return { unavailable: 'the logits have no producing node' };
  let weightName: string | undefined;
  let transposed = false;
  let biasName: string | undefined;
  if (producer.opType === 'MatMul') weightName = producer.inputs[1];
  else if (producer.opType === 'Gemm') {
    weightName = producer.inputs[1];
    transposed = producer.attributes['transB'] === 1;
    biasName = producer.inputs[2];
  } else return { unavailable: `the logits come from a ${producer.opType} operator, not a MatMul or Gemm` };
  const dims = graph.initializerDims.get(weightName ?? '');
  const weights = graph.initializerFloats(weightName ?? '');
  if (!dims || dims.length !== 2 || !weights) return { unavailable: 'the unembedding matrix is not a float initializer of the graph' };
  const [rows = 0, cols = 0] = dims;
  const hidden = transposed ? cols : rows;
  const vocab = transposed ? rows : cols;
  const unembedding = transposed ? new Float32Array(hidden * vocab) : weights;
  if (transposed) for (let v = 0; v < vocab; v++) for (let h = 0; h < hidden; h++) unembedding[h * vocab + v] = weights[v * hidden + h] ?? 0;
  const gamma = graph.initializerFloats(finalNorm.inputs[1] ?? '');
  if (!gamma || gamma.length !== hidden) return { unavailable: 'the final norm\'s scale is not a float initializer of the expected width' };
  const norm = finalNorm.opType === 'LayerNormalization' ? 'layer' : 'rms';
  return {
    norm,
    gamma,
    beta: norm === 'layer' ? graph.initializerFloats(finalNorm.inputs[2] ?? '') : null,
    epsilon: finalNorm.attributes['epsilon'] ?? 1e-5,
    unembedding,
    bias: biasName ? graph.initializerFloats(biasName) : null,
    hidden,
    vocab,
  };
}

const FUSED_ATTENTION = new Set(['Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedMultiHeadAttention']);

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

interface GraphNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Numeric attributes (epsilon, axis, transB, ...). */
  attributes: Record<string, number>;
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
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function tensorFloats(t: onnxProto.onnx.ITensorProto): Float32Array | null {
  const raw = t.rawData;
  if (t.dataType === 1) {
    if (raw && raw.length > 0) {
      const copy = raw.slice();
      return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    }
    return t.floatData && t.floatData.length > 0 ? Float32Array.from(t.floatData) : null;
  }
  if (t.dataType === 10 && raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: raw.byteLength / 2 }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
  }
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

/** Parses ONNX bytes; names the file and cause when they are not an ONNX model. */
export function decodeModel(bytes: Uint8Array, file = 'model.onnx'): GraphSummary {
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
    initializerDims.set(init.name ?? '', (init.dims ?? []).map(toNumber));
    initializerTypes.set(init.name ?? '', init.dataType ?? 0);
    if (init.dataLocation === 1) {
      const location = init.externalData?.find((e) => e.key === 'location')?.value;
      if (location) externalFiles.add(location);
    }
    initializers.set(init.name ?? '', init);
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
    })),
    initializerDims,
    initializerTypes,
    externalFiles: [...externalFiles],
    initializerFloats: (name: string) => {
      const t = initializers.get(name);
      return t ? tensorFloats(t) : null;
    },
    inputs: (graph.input ?? []).map(valueInfo).filter((i) => !initializerDims.has(i.name)),
    outputs: (graph.output ?? []).map(valueInfo),
  };
}

/** Finds the inputs, the logits and the tensors worth observing in a decoder graph. */
export function planGraph(graph: GraphSummary, file = 'model.onnx'): GraphPlan {
  const { inputs, initializerDims } = graph;
  if (!inputs.some((i) => i.name === 'input_ids')) {
    throw new Error(`${file}: the graph has no "input_ids" input (inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  const outputs = graph.outputs.map((o) => o.name);
  const logitsOutput = outputs.includes('logits') ? 'logits' : undefined;
  if (!logitsOutput) {
    throw new Error(`${file}: the graph has no "logits" output (outputs: ${outputs.join(', ') || 'none'})`);
  }
  const floatType = graph.outputs.find((o) => o.name === logitsOutput)?.elemType || 1;

  const probes: Probe[] = [];
  const producer = new Map<string, GraphNode>();
  for (const node of graph.nodes) for (const out of node.outputs) producer.set(out, node);

  // Follows Cast/Identity/Unsqueeze chains back to a graph input's name.
  const origin = (tensor: string): string => {
    let name = tensor;
    for (let hops = 0; hops < 8; hops++) {
      const node = producer.get(name);
      if (!node || !['Cast', 'Identity', 'Unsqueeze', 'Reshape'].includes(node.opType)) return name;
      name = node.inputs[0] ?? name;
    }
    return name;
  };

  let tokenEmbedding: string | undefined;
  let positionEmbedding: string | undefined;
  for (const node of graph.nodes) {
    if (node.opType !== 'Gather') continue;
    const dims = initializerDims.get(node.inputs[0] ?? '');
    const out = node.outputs[0];
    if (!dims || dims.length !== 2 || !out) continue;
    if (!tokenEmbedding && origin(node.inputs[1] ?? '') === 'input_ids') {
      tokenEmbedding = out;
      probes.push({ role: 'token-embedding', tensor: out, node: node.name || out, layer: -1 });
    } else if (!positionEmbedding && tokenEmbedding) {
      positionEmbedding = out;
      probes.push({ role: 'position-embedding', tensor: out, node: node.name || out, layer: -1 });
    }
  }
  if (tokenEmbedding && positionEmbedding) {
    const token = tokenEmbedding;
    const position = positionEmbedding;
    const sum = graph.nodes.find((n) => n.opType === 'Add' && n.inputs.includes(token) && n.inputs.includes(position));
    const out = sum?.outputs[0];
    if (sum && out) probes.push({ role: 'embedding-sum', tensor: out, node: sum.name || out, layer: -1 });
  }

  let layer = 0;
  for (const node of graph.nodes) {
    const out = node.outputs[0];
    if (node.opType === 'Softmax' && out) probes.push({ role: 'attention', tensor: out, node: node.name || out, layer: layer++ });
  }

  // The residual stream enters each pre-norm block through its first norm, and the head through the
  // final norm: with two norms a block (attention, MLP) and one at the end there are 2L + 1.
  const norms = graph.nodes.filter((n) => NORMS.has(n.opType));
  const finalNorm = norms.at(-1);
  const blocks = layer;
  const boundaries =
    blocks > 0 && norms.length === 2 * blocks + 1 ? norms.filter((_, i) => i % 2 === 0) : blocks > 0 && norms.length === blocks + 1 ? norms : [];
  boundaries.forEach((norm, i) => {
    const tensor = norm.inputs[0];
    if (tensor) probes.push({ role: 'residual', tensor, node: norm.name || tensor, layer: i });
  });
  const opTypes = [...new Set(graph.nodes.map((n) => `${n.domain ? `${n.domain}.` : ''}${n.opType}`))].sort();
  const fusedAttention = [...new Set(graph.nodes.filter((n) => FUSED_ATTENTION.has(n.opType)).map((n) => n.opType))];
  const lens = boundaries.length > 0 ? planLens(graph, logitsOutput, finalNorm) : { unavailable: 'the residual stream between blocks could not be located in this graph' };
  return { opset: graph.opset, inputs, logitsOutput, probes, opTypes, fusedAttention, floatType, lens };
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
 * (protobuf appends repeated fields), so the weights are copied once and never re-encoded.
 */
export function addGraphOutputs(bytes: Uint8Array, tensors: readonly string[], elemType = 1): Uint8Array {
  if (tensors.length === 0) return bytes;
  const extra: number[] = [];
  for (const name of tensors) {
    const info = onnx.ValueInfoProto.encode({ name, type: { tensorType: { elemType } } }).finish();
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
