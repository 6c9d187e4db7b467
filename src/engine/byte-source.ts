/** Bytes read by offset: a file in memory, or on disk read a piece at a time. */
export interface ByteSource {
  readonly byteLength: number;
  /** `length` bytes from `offset` (a copy or a view that stays valid). */
  read(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { byteLength: bytes.byteLength, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** The bytes of a source in `[offset, offset + length)`, for an external-data map holding either. */
export function readBytes(data: Uint8Array | ByteSource, offset: number, length: number): Uint8Array {
  return data instanceof Uint8Array ? data.subarray(offset, offset + length) : data.read(offset, length);
}

/** A file its host reads again whole for each read (`ModelFiles.reread`): for the rare late read, such as the logit lens's head. */
export function rereadSource(reread: () => Uint8Array, byteLength: number): ByteSource {
  return { byteLength, read: (offset, length) => reread().slice(offset, offset + length) };
}
