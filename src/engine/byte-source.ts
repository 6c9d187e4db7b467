/** Bytes read by offset: a file in memory, or on disk read a piece at a time. */
export interface ByteSource {
  readonly byteLength: number;
  /** `length` bytes from `offset` (a copy or a view that stays valid). */
  read(offset: number, length: number): Uint8Array;
  /** A few bytes far from the last read (a weight's first bytes), read alone; `read` where absent. */
  peek?(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { byteLength: bytes.byteLength, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** The bytes of a source in `[offset, offset + length)`, for an external-data map holding either; `peek` reads a few bytes alone. */
export function readBytes(data: Uint8Array | ByteSource, offset: number, length: number, peek = false): Uint8Array {
  if (data instanceof Uint8Array) return data.subarray(offset, offset + length);
  return peek && data.peek ? data.peek(offset, length) : data.read(offset, length);
}

/** A file its host reads again whole for each read (`ModelFiles.reread`): for the rare late read, such as the logit lens's head. */
export function rereadSource(reread: () => Uint8Array, byteLength: number): ByteSource {
  return { byteLength, read: (offset, length) => reread().slice(offset, offset + length) };
}

/**
 * The bytes of `source` as onnxruntime-web takes an external data file, without holding them: an
 * empty Uint8Array whose `byteLength` is the source's and whose `subarray` reads the range asked
 * for. onnxruntime-web copies each weight into its memory through exactly these two (its
 * `mountExternalData` and the loader that reads a weight's bytes), so a file on disk is read a
 * weight at a time instead of whole. Anything else reads an empty buffer and fails, never other bytes.
 */
export function sourceBytes(source: ByteSource): Uint8Array {
  const bytes = new Uint8Array(0);
  Object.defineProperty(bytes, 'byteLength', { get: () => source.byteLength });
  Object.defineProperty(bytes, 'subarray', { value: (begin = 0, end = source.byteLength) => source.read(begin, Math.min(end, source.byteLength) - begin) });
  return bytes;
}

/** The chunks one after the other in a new array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
