import { memorySource, type ByteSource } from './byte-source';
import type { EmbeddingTables } from './embedding-tables';
import { GraphIndex } from './graph-index';
import { findPositions, gatherTable } from './graph-positions';
import { decodeModel, type GraphSummary } from './onnx-decode';
import type { Probe } from './onnx-graph';
import { MIN_REFERRED_BYTES, referable } from './weight-refs';

/**
 * A model that comes as two files (model.onnx, and decoder_with_past.onnx for the key/value cache)
 * runs on the with-past graph alone: an empty past computes a whole prompt as model.onnx does, and
 * the weights are held once. These checks say whether the with-past graph can stand in for
 * model.onnx, whose probe names the model keeps (the with-past export names its nodes without their
 * block: `/Softmax_1` where model.onnx has `/h.1/attn/Softmax`).
 */

/**
 * The graph of an ONNX file decoded for its structure alone: its weights are referred to where they
 * are (in `source`, or in `bytes`), never copied. Only the few small weights the planner reads are read.
 */
export function decodeStructure(bytes: Uint8Array, name: string, file: string, source: ByteSource | undefined): GraphSummary {
  const location = name.slice(name.lastIndexOf('/') + 1);
  if (source) return decodeModel(bytes, file, new Map([[location, source]]));
  const referred = referable(memorySource(bytes), location, file);
  return referred ? decodeModel(referred, file, new Map([[location, bytes]])) : decodeModel(bytes, file);
}

/**
 * The probes of `shown` (model.onnx's) in the order of `run`'s (the with-past graph's), paired by role
 * and layer, each with the same hook; a sentence naming the first that has no partner when they do
 * not pair one to one.
 */
export function alignProbes(shown: readonly Probe[], run: readonly Probe[], shownFile: string, runFile: string): Probe[] | string {
  const key = (p: Probe): string => `${p.role} ${p.layer}`;
  const byKey = new Map(shown.map((p) => [key(p), p]));
  if (shown.length !== run.length || byKey.size !== shown.length) return `${shownFile} shows ${shown.length} tensors, ${runFile} ${run.length}`;
  const aligned: Probe[] = [];
  for (const p of run) {
    const partner = byKey.get(key(p));
    if (!partner || partner.hook !== p.hook) return `${p.hook} (${p.node} in ${runFile}) has no counterpart in ${shownFile}`;
    aligned.push(partner);
  }
  return aligned;
}

/** How many bytes at each weight's start, middle and end are compared: different weights of the same shape differ there. */
const SAMPLE_BYTES = 16;

/**
 * The weights of a graph (initializers of at least `MIN_REFERRED_BYTES`, not shape constants): type,
 * shape and the bytes at the start, middle and end of each, sorted. Read by offset, so a file on disk is read a window per weight.
 */
function weightKeys(graph: GraphSummary): string[] {
  const keys: string[] = [];
  for (const [name, dims] of graph.initializerDims) {
    if (dims.reduce((a, b) => a * b, 4) < MIN_REFERRED_BYTES) continue;
    const head = graph.initializerSample(name, SAMPLE_BYTES);
    keys.push(`${graph.initializerTypes.get(name) ?? 0}[${dims.join('x')}] ${head ? Array.from(head, (b) => b.toString(16).padStart(2, '0')).join('') : '?'}`);
  }
  return keys.sort();
}

/** Why two graphs do not hold the same weights (by type, shape and sampled bytes), or null when they do. */
export function weightsDiffer(shown: GraphSummary, run: GraphSummary, shownFile: string, runFile: string): string | null {
  const [a, b] = [weightKeys(shown), weightKeys(run)];
  if (a.length !== b.length) return `${shownFile} has ${a.length} weight tensors, ${runFile} ${b.length}`;
  return a.every((key, i) => key === b[i]) ? null : `${shownFile} and ${runFile} hold different weights`;
}

/** The token and positional tables' names in a graph (the weights its embedding lookups read). */
function tableNames(graph: GraphSummary): (string | null)[] {
  const ix = new GraphIndex(graph);
  const { token, position } = findPositions(ix);
  return [token, position].map((node) => (node ? gatherTable(ix, node) : null));
}

/** The run graph's embedding table names mapped to model.onnx's, where they differ (`gpt.wte.weight` for `wte.weight`). */
export function tableRenames(shown: GraphSummary, run: GraphSummary): Map<string, string> {
  const [from, to] = [tableNames(run), tableNames(shown)];
  const renames = new Map<string, string>();
  from.forEach((name, i) => {
    const shownName = to[i];
    if (name && shownName && name !== shownName) renames.set(name, shownName);
  });
  return renames;
}

/** The tables read from the run graph, named as model.onnx names them (the Embed cell shows the name). */
export function renameTables(tables: EmbeddingTables, renames: ReadonlyMap<string, string>): EmbeddingTables {
  const rename = <T extends EmbeddingTables['position']>(table: T): T => (table && 'name' in table ? { ...table, name: renames.get(table.name) ?? table.name } : table);
  return { token: rename(tables.token) ?? tables.token, position: rename(tables.position) };
}
