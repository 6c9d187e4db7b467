import { open } from 'node:fs/promises';
import { bfloat16ToFloat, halfToFloat } from '../engine/tensor-data';
import { embeddingProblem, type GgufFacts } from './gguf-metadata';

/** Q8_0 as ggml stores it: blocks of 32 values, each a float16 scale then 32 signed bytes. */
const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

/** Bytes of one row of `cols` values stored as `type`. */
function rowBytes(type: string, cols: number): number {
  switch (type) {
    case 'F32':
      return cols * 4;
    case 'F16':
    case 'BF16':
      return cols * 2;
    case 'Q8_0':
      return (cols / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
    default:
      throw new Error(`no reader for ${type} rows`);
  }
}

/** One row's values from its bytes (little-endian, as GGUF stores them). */
export function decodeRow(type: string, bytes: Buffer, cols: number, out: Float32Array, at: number): void {
  switch (type) {
    case 'F32':
      for (let i = 0; i < cols; i++) out[at + i] = bytes.readFloatLE(i * 4);
      return;
    case 'F16':
      for (let i = 0; i < cols; i++) out[at + i] = halfToFloat(bytes.readUInt16LE(i * 2));
      return;
    case 'BF16':
      for (let i = 0; i < cols; i++) out[at + i] = bfloat16ToFloat(bytes.readUInt16LE(i * 2));
      return;
    case 'Q8_0':
      for (let b = 0; b < cols / Q8_0_BLOCK; b++) {
        const base = b * Q8_0_BLOCK_BYTES;
        const scale = halfToFloat(bytes.readUInt16LE(base));
        for (let i = 0; i < Q8_0_BLOCK; i++) out[at + b * Q8_0_BLOCK + i] = scale * bytes.readInt8(base + 2 + i);
      }
      return;
    default:
      throw new Error(`no reader for ${type} rows`);
  }
}

/**
 * The token embedding rows of `ids`, row-major [position][dim], read from the file at the table's
 * offset (one read per token: the table itself may be hundreds of megabytes) and dequantized. Throws
 * with the reason when the table's type is not one read here.
 */
export async function readEmbeddingRows(path: string, table: GgufFacts['tokenEmbedding'], ids: readonly number[]): Promise<Float32Array> {
  const problem = embeddingProblem(table);
  if (problem || !table) throw new Error(problem ?? 'no token embedding table');
  if (table.type === 'Q8_0' && table.cols % Q8_0_BLOCK !== 0) throw new Error(`token_embd.weight: a Q8_0 row of ${table.cols} values is not whole blocks of 32`);
  const size = rowBytes(table.type, table.cols);
  const out = new Float32Array(ids.length * table.cols);
  const bytes = Buffer.alloc(size);
  const handle = await open(path, 'r');
  try {
    for (const [position, id] of ids.entries()) {
      if (!Number.isInteger(id) || id < 0 || id >= table.rows) throw new Error(`token id ${id} is outside the embedding table's ${table.rows} rows`);
      const { bytesRead } = await handle.read(bytes, 0, size, table.offset + id * size);
      if (bytesRead !== size) throw new Error(`${path}: token_embd.weight row ${id} is cut short (the file is truncated)`);
      decodeRow(table.type, bytes, table.cols, out, position * table.cols);
    }
  } finally {
    await handle.close();
  }
  return out;
}
