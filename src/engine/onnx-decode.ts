import { errorMessage } from '../common/error-message';
import onnxProto from 'onnx-proto';
import { bfloat16ToFloat, halfToFloat, ONNX_TYPE } from './tensor-data';
import { concat, readBytes, type ByteSource } from './byte-source';

/**
 * Decoding an ONNX file into what the planner reads: nodes, initializers (their shapes, types and
 * contents on demand, inline or in external data), inputs and outputs, with every declared shape checked.
 */

const { onnx } = onnxProto;

export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
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

export interface ValueInfo {
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
  /**
   * `length` bytes from each of the start, the middle and the end of what an initializer stores raw
   * (inline or in external data), without reading the rest; null where it stores none.
   */
  initializerSample(name: string, length: number): Uint8Array | null;
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
      // Bytes read for this tensor alone (a file read by offset) are used as they are; else a fresh,
      // aligned copy (under Node, protobufjs hands out Buffers whose slice() is a view).
      if (raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength) return new Float32Array(raw.buffer, 0, raw.byteLength / 4);
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
export function decodeModel(bytes: Uint8Array, file = 'model.onnx', external: ReadonlyMap<string, Uint8Array | ByteSource> = new Map()): GraphSummary {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new Error(`${file}: not a readable ONNX model (${errorMessage(cause)})`);
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
    const where = externalPlace(t);
    if (!where) return null;
    return { dataType: t.dataType, rawData: readBytes(where.data, where.offset, where.length) };
  };
  /** Where an initializer's bytes lie in its external data file, when that file was given. */
  const externalPlace = (t: onnxProto.onnx.ITensorProto): { data: Uint8Array | ByteSource; offset: number; length: number } | null => {
    const entry = (key: string): string | undefined => t.externalData?.find((e) => e.key === key)?.value ?? undefined;
    const data = external.get(entry('location') ?? '');
    if (!data) return null;
    const offset = Number(entry('offset') ?? '0');
    return { data, offset, length: Number(entry('length') ?? String(data.byteLength - offset)) };
  };
  /** `length` bytes at the start, middle and end of an initializer's stored bytes (fewer where it is short). */
  const sample = (name: string, length: number): Uint8Array | null => {
    const t = initializers.get(name);
    if (!t) return null;
    const place = t.dataLocation === 1 ? externalPlace(t) : t.rawData && t.rawData.length > 0 ? { data: t.rawData, offset: 0, length: t.rawData.length } : null;
    if (!place || place.length === 0) return null;
    const starts = [...new Set([0, Math.max(0, Math.floor(place.length / 2) - Math.floor(length / 2)), Math.max(0, place.length - length)])];
    return concat(starts.map((start) => readBytes(place.data, place.offset + start, Math.min(length, place.length - start), true)));
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
    initializerSample: sample,
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
