import { concat, memorySource, sourceBytes, type ByteSource } from './byte-source';
import { lengthDelimited, nextField, varint, type Field } from './onnx-edit';

/**
 * A model's weights left where they are. `referWeights` returns the graph without its inline weights,
 * each large initializer pointing at its own bytes in the file (ONNX external data whose location is
 * the file itself, at the weight's offset and length). ONNX Runtime then reads the weights straight
 * into its tensors: onnxruntime-node from the file on disk, onnxruntime-web from the bytes handed to it
 * as that external file. It never parses a copy of the whole file, the engine's edits (extra
 * outputs, the head on chosen rows) copy a graph of a megabyte instead of the weights, and on native
 * the host need not read the weights at all (`src/node/file-source.ts`).
 */

/** Initializers below this many bytes stay inline (small constants the planner reads as values). */
export const MIN_REFERRED_BYTES = 1024;

const GRAPH = 7;
const INITIALIZER = 5;
const RAW_DATA = 9;
const EXTERNAL_DATA = 13;
const DATA_LOCATION = 14;
const EXTERNAL = 1;

/** The protobuf field at `pos`, read from the few bytes of its header (`nextField` on them, moved to `pos`). */
function fieldAt(source: ByteSource, pos: number, file: string): Field {
  const head = source.read(pos, Math.min(20, source.byteLength - pos));
  const f = nextField(head, 0, `${file} (byte ${pos})`);
  const field = { number: f.number, wire: f.wire, tagStart: pos, start: pos + f.start, end: pos + f.end };
  if (field.end > source.byteLength) throw new Error(`${file}: a protobuf field at byte ${pos} runs past the end of the file`);
  return field;
}

const text = new TextEncoder();

function entry(key: string, value: string): Uint8Array {
  return lengthDelimited(EXTERNAL_DATA, concat([lengthDelimited(1, text.encode(key)), lengthDelimited(2, text.encode(value))]));
}

/**
 * The model in `source` with every top-level initializer's inline `raw_data` of at least `minBytes`
 * replaced by a reference to `location` at the same bytes; null when it has none (nothing to gain,
 * or weights already in an external file). Everything else is copied as it is; the weights are
 * never read.
 */
export function referWeights(source: ByteSource, location: string, file = location, minBytes = MIN_REFERRED_BYTES): Uint8Array | null {
  const out: Uint8Array[] = [];
  let moved = 0;
  const copy = (f: Field): Uint8Array => source.read(f.tagStart, f.end - f.tagStart);
  for (let pos = 0; pos < source.byteLength; ) {
    const field = fieldAt(source, pos, file);
    pos = field.end;
    if (field.number !== GRAPH || field.wire !== 2) {
      out.push(copy(field));
      continue;
    }
    const graph: Uint8Array[] = [];
    for (let at = field.start; at < field.end; ) {
      const g = fieldAt(source, at, file);
      at = g.end;
      if (g.number !== INITIALIZER || g.wire !== 2 || g.end - g.start < minBytes) {
        graph.push(copy(g));
        continue;
      }
      const tensor: Uint8Array[] = [];
      let raw: Field | null = null;
      for (let t = g.start; t < g.end; ) {
        const f = fieldAt(source, t, file);
        t = f.end;
        if (f.number === RAW_DATA && f.wire === 2 && f.end - f.start >= minBytes) raw = f;
        else tensor.push(copy(f));
      }
      if (raw) {
        moved++;
        tensor.push(entry('location', location), entry('offset', String(raw.start)), entry('length', String(raw.end - raw.start)), new Uint8Array([DATA_LOCATION << 3, EXTERNAL]));
      }
      graph.push(lengthDelimited(INITIALIZER, concat(tensor)));
    }
    const body = concat(graph);
    out.push(new Uint8Array([...varint((GRAPH << 3) | 2), ...varint(body.length)]), body);
  }
  return moved > 0 ? concat(out) : null;
}

/** `referWeights`, or null for bytes it cannot walk: those are loaded as they are, and the decoder names what is wrong with them. */
export function referable(source: ByteSource, location: string, file: string): Uint8Array | null {
  try {
    return referWeights(source, location, file);
  } catch {
    return null;
  }
}

/** A graph as a session gets it: its bytes, the external files handed to onnxruntime-web, and the folder onnxruntime-node reads them from. */
export interface SessionGraph {
  bytes: Uint8Array;
  /** The file's own bytes under the name the graph refers to them by (to decode the graph with), or null. */
  referred: { path: string; data: Uint8Array | ByteSource } | null;
  /** External data for `InferenceSession.create` (wasm, webgpu): the file itself where its weights are referred to. */
  external: { path: string; data: Uint8Array }[];
  /** The folder on disk that the graph's external files are in (native), or null. */
  folder: string | null;
}

/**
 * The graph of the file `name` (a path inside the model folder) for a session on `backend`: its
 * weights referred to in the file itself where ONNX Runtime can read them there, i.e. always in
 * onnxruntime-web (the bytes are handed to it as the external file) and on native where the host
 * gave the folder on disk; else the bytes as they are. `source` is the file by offset when the
 * host read `bytes` already referring to it (native hosts: `src/node/file-source.ts`).
 */
export function sessionGraph(bytes: Uint8Array, name: string, backend: string, modelFolder: string | undefined, source?: ByteSource): SessionGraph {
  const slash = name.lastIndexOf('/');
  const location = name.slice(slash + 1);
  const folder = modelFolder === undefined ? null : slash < 0 ? modelFolder : `${modelFolder}/${name.slice(0, slash)}`;
  // Read without its weights, the graph needs them handed over where ONNX Runtime cannot read the file itself.
  if (source && backend !== 'native') {
    // onnxruntime-web reads each weight from the file as it copies it in (`sourceBytes`), never the whole file.
    const referred = { path: location, data: source };
    return { bytes, referred, external: [{ path: location, data: sourceBytes(source) }], folder };
  }
  if (source && folder === null) {
    // The whole file for the session only; the graph is decoded against the file on disk.
    const whole = sessionGraph(source.read(0, source.byteLength), name, backend, modelFolder);
    return { ...whole, referred: whole.referred && { path: whole.referred.path, data: source } };
  }
  if (source) return { bytes, referred: { path: location, data: source }, external: [], folder };
  if (backend === 'native' && folder === null) return { bytes, referred: null, external: [], folder: null };
  const graph = referable(memorySource(bytes), location, name);
  if (!graph) return { bytes, referred: null, external: [], folder };
  const referred = { path: location, data: bytes };
  return { bytes: graph, referred, external: backend === 'native' ? [] : [referred], folder };
}
