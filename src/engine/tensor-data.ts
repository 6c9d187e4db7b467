/**
 * Element types as the engine meets them: in ONNX files (TensorProto data types), in ONNX Runtime's
 * tensors (type names) and in their typed arrays. Every float the engine reads goes through here,
 * so half precision is decoded as IEEE 754 binary16 everywhere and never read as integers.
 */

/** ONNX TensorProto data types the engine names. */
export const ONNX_TYPE = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, double: 11, bfloat16: 16 } as const;

/** ONNX Runtime's tensor type name for an ONNX data type, for the types the engine creates or reads. */
const ORT_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

export function ortTypeName(onnxType: number): string {
  return ORT_TYPE_NAMES[onnxType] ?? `ONNX type ${onnxType}`;
}

/** The float types a graph's activations can have; the engine feeds and reads these. */
export type FloatTypeName = 'float32' | 'float16';

/** IEEE 754 half precision (binary16) bits to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** bfloat16 bits (the upper half of a float32) to a number. */
export function bfloat16ToFloat(b: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (b & 0xffff) << 16);
  return view.getFloat32(0);
}

const HALF_TABLE_SIZE = 1 << 16;
let halfTable: Float32Array | null = null;

/** Decodes binary16 bits through a 65,536-entry table (256 KB, built once): fast enough for logits of large vocabularies. */
export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(HALF_TABLE_SIZE);
    for (let h = 0; h < HALF_TABLE_SIZE; h++) halfTable[h] = halfToFloat(h);
  }
  const table = halfTable;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i] ?? 0] ?? 0;
  return out;
}

/** The parts of an ONNX Runtime tensor this module reads (onnxruntime-web's and -node's alike). */
export interface TensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/**
 * A float tensor's values as float32: float32 as it is, float16 decoded as binary16 (ONNX Runtime
 * hands it over as a Uint16Array of bits, or a Float16Array where the platform has one), bfloat16
 * from its bits, float64 rounded. Any other type is refused by name: integers are never taken for floats.
 */
export function tensorToFloat32(tensor: TensorLike, what = 'tensor'): Float32Array {
  const data = tensor.data;
  if (tensor.type === 'float32' && data instanceof Float32Array) return data;
  if (tensor.type === 'float16') {
    if (data instanceof Uint16Array) return halfBitsToFloat32(data);
    // A Float16Array (where the platform has one) already reads as numbers.
    if (ArrayBuffer.isView(data)) return Float32Array.from(data as unknown as ArrayLike<number>);
  }
  if (tensor.type === 'bfloat16' && data instanceof Uint16Array) return Float32Array.from(data, bfloat16ToFloat);
  if (tensor.type === 'float64' && data instanceof Float64Array) return Float32Array.from(data);
  throw new Error(`${what} is of type ${tensor.type}, not a float type the engine reads (float32, float16, bfloat16, float64)`);
}
