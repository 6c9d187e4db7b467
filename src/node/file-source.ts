import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { ByteSource } from '../engine/byte-source';
import { referable } from '../engine/weight-refs';

/** How much of the file one read from disk brings in: the graph's small fields are read from it. */
const WINDOW = 1 << 20;

/**
 * A file on disk read by offset, a window at a time (the file is opened for each read and closed
 * again). A file whose size or modification time changed since is refused: its offsets or its
 * weights would not be the graph's.
 */
export function fileSource(path: string, label = path): ByteSource {
  let size = -1;
  let modified = -1;
  let window = new Uint8Array(0);
  let windowAt = 0;
  const fill = (fd: number, into: Uint8Array, offset: number): void => {
    for (let done = 0; done < into.length; ) {
      const n = readSync(fd, into, done, into.length - done, offset + done);
      if (n === 0) throw new Error(`${label} ended at byte ${offset + done}, before the ${into.length} bytes asked for at ${offset}`);
      done += n;
    }
  };
  const withFile = <T>(use: (fd: number) => T): T => {
    const fd = openSync(path, 'r');
    try {
      const { size: now, mtimeMs } = fstatSync(fd);
      if (size >= 0 && now !== size) throw new Error(`${label} changed on disk while it was read (${size} bytes, now ${now}); load the model again`);
      // A file written again at the same size (another export of the same shape) has other weights at the same offsets.
      if (modified >= 0 && mtimeMs !== modified) throw new Error(`${label} changed on disk while it was read (written again at ${new Date(mtimeMs).toISOString()}); load the model again`);
      size = now;
      modified = mtimeMs;
      return use(fd);
    } finally {
      closeSync(fd);
    }
  };
  withFile(() => undefined);
  const checkRange = (offset: number, length: number): void => {
    if (offset < 0 || offset + length > size) throw new Error(`${label}: bytes ${offset} to ${offset + length} are past its end (${size} bytes)`);
  };
  return {
    get byteLength() {
      return size;
    },
    read(offset, length) {
      checkRange(offset, length);
      if (offset >= windowAt && offset + length <= windowAt + window.length) return window.slice(offset - windowAt, offset - windowAt + length);
      if (length > WINDOW / 4) {
        const out = new Uint8Array(length);
        withFile((fd) => fill(fd, out, offset));
        return out;
      }
      window = new Uint8Array(Math.min(WINDOW, size - offset));
      windowAt = offset;
      withFile((fd) => fill(fd, window, offset));
      return window.slice(0, length);
    },
    peek(offset, length) {
      checkRange(offset, length);
      const out = new Uint8Array(length);
      withFile((fd) => fill(fd, out, offset));
      return out;
    },
  };
}

/**
 * An ONNX file's graph read from disk without its weights: each large initializer refers to its own
 * bytes in the file (`referWeights`), which onnxruntime-node reads itself. The source reads the few
 * weights the engine needs (the logit lens's head) by offset. Null when the file has no inline weights
 * or cannot be walked (then it is read whole, and the decoder names what is wrong).
 */
export function graphWithoutWeights(path: string, label: string): { graph: Uint8Array; source: ByteSource } | null {
  const source = fileSource(path, label);
  const graph = referable(source, basename(path), label);
  return graph ? { graph, source } : null;
}
