import onnxProto from 'onnx-proto';
import { concat, type ByteSource } from './byte-source';
import { decodeModel, type GraphNode, type GraphSummary } from './onnx-decode';

/**
 * Edits of ONNX bytes the engine makes before a session: extra graph outputs (appended without
 * re-encoding the weights), and a merged decoder's no-cache branch inlined.
 */

const { onnx } = onnxProto;

export function varint(value: number): number[] {
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
 * If node, where their attention and residual tensors cannot become graph outputs. This returns the
 * model with the If replaced by one branch inlined into the main graph, and the inputs it does not
 * read removed (use_cache_branch; the past_key_values too for the no-cache branch). The with-past
 * branch (`then_branch`) run on an empty past computes the whole prompt as the other does, and the
 * same session then continues on its cache: one copy of the weights. The weights are re-encoded once.
 */
export function inlineBranch(bytes: Uint8Array, file = 'model.onnx', branchName: 'then_branch' | 'else_branch' = 'else_branch'): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  const index = graph?.node?.findIndex((n) => n.opType === 'If' && n.input?.[0] === USE_CACHE_BRANCH) ?? -1;
  const ifNode = graph?.node?.[index];
  const branch = ifNode?.attribute?.find((a) => a.name === branchName)?.g;
  if (!graph?.node || !ifNode || !branch) throw new Error(`${file}: no If node on "${USE_CACHE_BRANCH}" with a${branchName === 'else_branch' ? 'n else' : ' then'} branch was found`);
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
 * decoder the file with one branch inlined (the no-cache branch unless `branch` says otherwise).
 */
export function prepareGraph(
  bytes: Uint8Array,
  file = 'model.onnx',
  external: ReadonlyMap<string, Uint8Array | ByteSource> = new Map(),
  branch: 'then_branch' | 'else_branch' = 'else_branch',
): { bytes: Uint8Array; graph: GraphSummary; merged: boolean } {
  const graph = decodeModel(bytes, file, external);
  if (!isMergedDecoder(graph)) return { bytes, graph, merged: false };
  const inlined = inlineBranch(bytes, file, branch);
  return { bytes: inlined, graph: decodeModel(inlined, file, external), merged: true };
}

/**
 * The graph input that picks which positions the logits are computed for: int64 [rows], indices
 * along the sequence axis. Fed with the last position alone by every pass that reads only it.
 */
export const LOGIT_ROWS_INPUT = 'ntl_logit_rows';

/**
 * Returns model bytes whose head (final norm and unembedding) runs only on the positions fed as
 * `ntl_logit_rows`: a Gather on the sequence axis of `stream`, the tensor entering the final norm,
 * read by the nodes that read the stream. The head is position-wise, so the logits of a position are
 * those of the whole sequence's pass, and the unembedding's cost (a vocabulary-wide MatMul per
 * position, a third of GPT-2 small's work) is paid once per pass. Only the nodes that read `stream`
 * are re-encoded: the weights are copied, not decoded. `stream` itself stays a graph output where
 * the instrumentation made it one. `outputs` are added as graph outputs in the same copy (as
 * `addGraphOutputs` does).
 */
export function addLogitRows(bytes: Uint8Array, stream: string, outputs: readonly string[] = [], file = 'model.onnx'): Uint8Array {
  const gathered = `${stream}/ntl_logit_rows`;
  const gather = onnx.NodeProto.encode({ name: 'ntl/logit_rows', opType: 'Gather', input: [stream, LOGIT_ROWS_INPUT], output: [gathered], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }).finish();
  const input = onnx.ValueInfoProto.encode({
    name: LOGIT_ROWS_INPUT,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'logit_rows' }] } } },
  }).finish();
  const graphAt = findField(bytes, 0, bytes.length, 7, file);
  const chunks: Uint8Array[] = [];
  let pos = graphAt.start;
  let rewired = 0;
  while (pos < graphAt.end) {
    const field = nextField(bytes, pos, file);
    if (field.number === 1 && field.wire === 2) {
      const node = onnx.NodeProto.decode(bytes.subarray(field.start, field.end));
      if ((node.input ?? []).includes(stream)) {
        node.input = (node.input ?? []).map((i) => (i === stream ? gathered : i));
        chunks.push(lengthDelimited(1, onnx.NodeProto.encode(node).finish()));
        rewired++;
        pos = field.end;
        continue;
      }
    }
    chunks.push(bytes.subarray(pos, field.end));
    pos = field.end;
  }
  if (rewired === 0) throw new Error(`${file}: no node reads "${stream}", so the logits cannot be computed for the last position alone`);
  chunks.push(lengthDelimited(1, gather), lengthDelimited(11, input));
  for (const name of new Set(outputs)) chunks.push(lengthDelimited(12, onnx.ValueInfoProto.encode({ name }).finish()));
  const graphLength = chunks.reduce((n, c) => n + c.length, 0);
  return concat([bytes.subarray(0, graphAt.tagStart), new Uint8Array([...varint((7 << 3) | 2), ...varint(graphLength)]), ...chunks, bytes.subarray(graphAt.end)]);
}

/** Operators whose result at one position depends on the others (a scale from the whole tensor's range). */
const ACROSS_POSITIONS = new Set(['DynamicQuantizeLinear', 'DynamicQuantizeMatMul', 'DynamicQuantizeLSTM']);

/**
 * Whether the nodes between `stream` and `logits` (the head) compute each position from that
 * position alone, so that running them on the last one gives its logits exactly. Dynamic
 * quantization takes its scale from every position's values: a graph with it keeps its head as is.
 */
export function headIsPositionWise(nodes: readonly GraphNode[], stream: string, logits: string): boolean {
  const readers = new Map<string, GraphNode[]>();
  for (const n of nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const seen = new Set<GraphNode>();
  const queue = [stream];
  let reachesLogits = false;
  for (let t = queue.pop(); t !== undefined; t = queue.pop()) {
    if (t === logits) reachesLogits = true;
    for (const n of readers.get(t) ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      if (ACROSS_POSITIONS.has(n.opType)) return false;
      queue.push(...n.outputs);
    }
  }
  return reachesLogits;
}

/** The bytes a session is created from: the head on chosen positions where `stream` is known (`addLogitRows`), and the extra outputs. */
export function withHead(bytes: Uint8Array, stream: string | null, outputs: readonly string[], file: string): Uint8Array {
  return stream ? addLogitRows(bytes, stream, outputs, file) : addGraphOutputs(bytes, outputs);
}

/** One protobuf field: its number, wire type and bounds. */
export interface Field {
  number: number;
  wire: number;
  /** Where the field's tag begins, and its payload's bounds (a length-delimited field's content). */
  tagStart: number;
  start: number;
  end: number;
}

/** The protobuf field whose tag starts at `pos`: its number, wire type and bounds. */
export function nextField(bytes: Uint8Array, pos: number, file: string): Field {
  const [tag, afterTag] = readVarint(bytes, pos);
  const wire = tag % 8;
  const number = Math.floor(tag / 8);
  if (wire === 2) {
    const [length, start] = readVarint(bytes, afterTag);
    return { number, wire, tagStart: pos, start, end: start + length };
  }
  if (wire === 0) return { number, wire, tagStart: pos, start: afterTag, end: readVarint(bytes, afterTag)[1] };
  if (wire === 1) return { number, wire, tagStart: pos, start: afterTag, end: afterTag + 8 };
  if (wire === 5) return { number, wire, tagStart: pos, start: afterTag, end: afterTag + 4 };
  throw new Error(`${file}: unexpected protobuf wire type ${wire}`);
}

function findField(bytes: Uint8Array, from: number, to: number, number: number, file: string): Field {
  for (let pos = from; pos < to; ) {
    const field = nextField(bytes, pos, file);
    if (field.number === number && field.wire === 2) return field;
    pos = field.end;
  }
  throw new Error(`${file}: no graph field found`);
}

export function lengthDelimited(number: number, payload: Uint8Array): Uint8Array {
  const header = [...varint((number << 3) | 2), ...varint(payload.length)];
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

