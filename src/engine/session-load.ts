import type * as Ort from 'onnxruntime-web';
import { errorMessage } from '../common/error-message';
import type { ModelConfig } from '../common/model-config';
import { rereadSource, type ByteSource } from './byte-source';
import { cacheGraphOnLastRow, headStream } from './head-rows';
import { addFusedRecompute, withoutRecompute, type FusedPlan } from './fused-attention';
import { precisionLabel } from './graph-facts';
import { alignProbes, decodeStructure, tableRenames, weightsDiffer } from './graph-pair';
import { GraphSource, rereader } from './graph-source';
import { checkFedInputs, feedsFor, layerMismatch, openCacheGraph, PAST_INPUT, pastSlots, type CacheGraph, type PastSlot } from './kv-cache';
import { isMergedDecoder, prepareGraph, withHead } from './onnx-edit';
import type { GraphSummary } from './onnx-decode';
import { planGraph, type GraphPlan } from './onnx-graph';
import { checkKnownOperators, explainSessionError } from './operator-support';
import { sessionOptions, type LoadOptions, type ModelFiles, type OrtModule } from './session-options';
import { sessionGraph, type SessionGraph } from './weight-refs';

/**
 * How `OnnxModel.load` opens a model's graphs: which file the instrumented session runs, whether the
 * key/value cache runs on that session or another, and where the graph is read from later.
 */

/** What a model runs on, once loaded. */
export interface OpenedModel {
  /** The plan the model shows: the probes as model.onnx names them, whichever file runs. */
  plan: GraphPlan;
  /** The plan of the graph the session runs: the tensors fetched from it. */
  runPlan: GraphPlan;
  session: Ort.InferenceSession;
  /** The past inputs of the session's graph, fed empty for a whole-sequence pass. */
  mainSlots: PastSlot[];
  /** The tensor entering the final norm, where the head runs on chosen positions; null where it runs on all. */
  stream: string | null;
  cacheGraph: CacheGraph | null;
  cacheNote: string | null;
  graphSource: GraphSource;
  /** Where native sessions read the weights the graph refers to in its file, or null. */
  folder: string | null;
  /** Whether logits-only passes get a session of the graph as it is (recomputed fused attention). */
  hasPlain: boolean;
  precision: string;
  /** Why a model of two files (model.onnx and a with-past file) holds its weights in two sessions, or null. */
  sessionNote: string | null;
  /** The run graph's embedding table names that model.onnx names otherwise, to show its names. */
  tableRenames: Map<string, string>;
  /** The empty-past pass a load with `checkLater` still owes: it throws the reason the one session cannot stand in. Null: none owed. */
  emptyPastCheck: (() => Promise<void>) | null;
}

/** One ONNX file of the model folder as the host read it. */
interface GraphFile {
  /** Its path inside the model folder (`onnx/model.onnx`). */
  name: string;
  bytes: Uint8Array;
  source: ByteSource | undefined;
  reread: (() => Uint8Array) | undefined;
  external: { path: string; data: Uint8Array }[];
}

/** A graph decoded and planned, before its session. */
interface Prepared {
  g: GraphFile;
  /** `<id>/<name>`, for messages. */
  file: string;
  graph: SessionGraph;
  sessionExternal: { path: string; data: Uint8Array }[];
  decodeExternal: Map<string, Uint8Array | ByteSource>;
  bytes: Uint8Array;
  summary: GraphSummary;
  plan: GraphPlan;
}

function prepare(files: ModelFiles, options: LoadOptions, g: GraphFile): Prepared {
  const file = `${files.id}/${g.name}`;
  // The weights stay in the file: the graph refers to them there (weight-refs.ts), and is decoded with the file as its external data.
  const graph = sessionGraph(g.bytes, g.name, options.backend, files.folder, g.source);
  const sessionExternal = [...g.external, ...graph.external];
  const decodeExternal = new Map([...g.external, ...(graph.referred ? [graph.referred] : [])].map((e) => [e.path, e.data]));
  // A merged decoder runs its with-past branch for everything (an empty past for a whole prompt): one session, one copy of the weights.
  const prepared = prepareGraph(graph.bytes, file, decodeExternal, 'then_branch');
  const missing = prepared.graph.externalFiles.filter((f) => !decodeExternal.has(f));
  if (missing.length > 0) throw new Error(`${file}: its weights are in external data ${missing.join(', ')}, which was not provided`);
  const plan = planGraph(prepared.graph, file);
  checkKnownOperators(plan, file);
  return { g, file, graph, sessionExternal, decodeExternal, bytes: prepared.bytes, summary: prepared.graph, plan };
}

/** The instrumented session of a prepared graph, and what it was made with. */
interface Opened {
  session: Ort.InferenceSession;
  plan: GraphPlan;
  recompute: (FusedPlan & { ok: true }) | null;
  observed: Uint8Array;
  stream: string | null;
  mainSlots: PastSlot[];
}

async function openSession(ort: OrtModule, options: LoadOptions, config: ModelConfig, p: Prepared): Promise<Opened> {
  const { file } = p;
  let plan = p.plan;
  // Fused attention operators get their weights recomputed beside them (instrumented pass only).
  let recompute = plan.fusedRecompute?.ok ? plan.fusedRecompute : null;
  let observed = recompute ? addFusedRecompute(p.bytes, recompute, p.summary.nodes, file) : p.bytes;
  if (options.backend !== 'native') ort.env.wasm.numThreads = options.threads;
  // The head (final norm, unembedding) runs on the positions a pass reads: the stream entering the final norm.
  let stream = headStream(plan, p.summary.nodes);
  const create = async (bytes: Uint8Array): Promise<Ort.InferenceSession> => {
    const options_ = { ...sessionOptions(options, p.graph.folder), ...(p.sessionExternal.length > 0 ? { externalData: p.sessionExternal } : {}) };
    const probes = plan.probes.map((probe) => probe.tensor);
    if (stream) {
      try {
        return await ort.InferenceSession.create(withHead(bytes, stream, probes, file), options_);
      } catch {
        // A graph the edit does not fit: its head runs on every position, as the file has it.
        stream = null;
      }
    }
    return ort.InferenceSession.create(withHead(bytes, null, probes, file), options_);
  };
  let session: Ort.InferenceSession;
  try {
    session = await create(observed).catch(async (cause: unknown) => {
      if (!recompute) throw cause;
      // The model still runs without the recomputation; its attention view then says why it has no weights.
      plan = withoutRecompute(plan, `the graph with the recomputation could not be loaded: ${errorMessage(cause)}`);
      recompute = null;
      observed = p.bytes;
      return create(observed);
    });
  } catch (cause) {
    throw new Error(explainSessionError(errorMessage(cause), plan, file, options.backend));
  }
  // The graph's own past inputs (Optimum's model.onnx and decoder_model.onnx with past): fed empty
  // for a whole sequence, and the same session continues from its present outputs.
  const mainSlots = pastSlots(session, config, file);
  if (typeof mainSlots === 'string') {
    await session.release();
    throw new Error(mainSlots);
  }
  return { session, plan, recompute, observed, stream, mainSlots };
}

/**
 * A model of two files on the with-past graph alone, its probes named as model.onnx names them; or
 * why not (the caller then opens both files). Null where the model is not of two files, or its cache
 * is turned off.
 */
async function openOnWithPast(ort: OrtModule, files: ModelFiles, options: LoadOptions, config: ModelConfig): Promise<OpenedModel | string | null> {
  if (options.cache === false || !files.onnxWithPast) return null;
  if (options.shareWeights === false) return options.sharedRefusal ?? 'a session per file was asked for';
  const shownName = files.onnxFile ?? 'onnx/model.onnx';
  const shownFile = `${files.id}/${shownName}`;
  const runName = files.onnxWithPastFile ?? 'onnx/decoder_with_past.onnx';
  const runFile = `${files.id}/${runName}`;
  let shown: GraphSummary;
  try {
    shown = decodeStructure(files.onnx, shownName, shownFile, files.onnxSource);
  } catch {
    // model.onnx's own load names what is wrong with it.
    return `${shownFile} could not be read`;
  }
  // A graph with its own cache (past inputs, or a merged decoder) runs on one session already.
  if (isMergedDecoder(shown) || shown.inputs.some((i) => PAST_INPUT.test(i.name))) return null;
  if ((files.externalData ?? []).length > 0) return `${shownFile} keeps its weights in external data files`;
  let opened: Opened | null = null;
  const refused = (cause: unknown): string => `${runFile} could not run in place of ${shownFile}: ${errorMessage(cause)}`;
  try {
    const shownPlan = planGraph(shown, shownFile);
    if (shownPlan.fusedAttention.length > 0) return `${shownFile} computes attention in fused operators`;
    const run = prepare(files, options, { name: runName, bytes: files.onnxWithPast, source: files.onnxWithPastSource, reread: files.rereadWithPast, external: [] });
    const probes = alignProbes(shownPlan.probes, run.plan.probes, shownFile, runFile);
    if (typeof probes === 'string') return probes;
    const differ = weightsDiffer(shown, run.summary, shownFile, runFile);
    if (differ !== null) return differ;
    if (run.plan.fusedAttention.length > 0 || run.summary.inputs.every((i) => !PAST_INPUT.test(i.name))) return `${runFile} is not a with-past graph of plain attention`;
    checkFedInputs(run.plan.inputs, runFile);
    opened = await openSession(ort, options, config, run);
    const mismatch = layerMismatch(opened.mainSlots, config, runFile);
    if (mismatch !== null) throw new Error(mismatch);
    // A backend that cannot run an empty past (zero-length tensors) keeps model.onnx for whole sequences.
    const inputs = [...opened.session.inputNames];
    const { session, mainSlots } = opened;
    const logits = run.plan.logitsOutput;
    const runEmptyPast = async (): Promise<void> => {
      const check = await session.run(feedsFor(ort, inputs, mainSlots, [[0]], [], 0), [logits]);
      for (const t of Object.values(check)) t.dispose();
    };
    if (!options.checkLater) await runEmptyPast();
    const cacheGraph: CacheGraph = { session, shared: true, inputs, slots: opened.mainSlots, file: runFile };
    return {
      plan: { ...opened.plan, probes },
      runPlan: opened.plan,
      session,
      mainSlots: opened.mainSlots,
      stream: opened.stream,
      cacheGraph,
      cacheNote: null,
      graphSource: graphSource(run, opened, false),
      folder: run.graph.folder,
      hasPlain: false,
      precision: precisionLabel(run.summary),
      sessionNote: null,
      tableRenames: tableRenames(shown, run.summary),
      emptyPastCheck: options.checkLater
        ? () =>
            runEmptyPast().catch((cause: unknown) => {
              throw new Error(refused(cause));
            })
        : null,
    };
  } catch (cause) {
    await opened?.session.release();
    return refused(cause);
  }
}

/** Where the graph is read from after the sessions: kept, or read again from the host's file (and the file's bytes not kept). */
function graphSource(p: Prepared, o: Opened, plainPath: boolean): GraphSource {
  const { g, graph } = p;
  const fileBytes = g.source?.byteLength ?? g.bytes.byteLength;
  const reread = g.reread && g.external.length === 0 ? rereader(g.reread, fileBytes, p.file, o.recompute, plainPath) : null;
  if (!reread) return new GraphSource(p.file, p.sessionExternal, { graph: p.summary, observed: o.observed, plain: plainPath ? p.bytes : null }, null);
  if (!plainPath && graph.referred) {
    // The file's bytes handed to onnxruntime-web go: the file is read again when needed.
    p.sessionExternal.length = 0;
    graph.external.length = 0;
    if (graph.referred.data instanceof Uint8Array) p.decodeExternal.set(graph.referred.path, rereadSource(g.reread ?? (() => new Uint8Array()), fileBytes));
  }
  return new GraphSource(p.file, g.external, null, reread);
}

/**
 * Opens a model's sessions. A model of two files runs on its with-past graph alone where that graph
 * can stand in for model.onnx (`openOnWithPast`); else model.onnx gets the instrumented session, and
 * the cache runs on the same session (a graph with past inputs) or a second one (a with-past file).
 */
export async function openModel(ort: OrtModule, files: ModelFiles, options: LoadOptions, config: ModelConfig, plainSessionMaxBytes: number): Promise<OpenedModel> {
  const one = await openOnWithPast(ort, files, options, config);
  if (one !== null && typeof one !== 'string') return one;
  const sessionNote = one === null ? null : `the weights are held twice (one session per file): ${one}`;
  const external = files.externalData ?? [];
  const p = prepare(files, options, { name: files.onnxFile ?? 'onnx/model.onnx', bytes: files.onnx, source: files.onnxSource, reread: files.reread, external });
  checkFedInputs(p.plan.inputs, p.file);
  const o = await openSession(ort, options, config, p);
  const { session, mainSlots, stream } = o;
  const file = p.file;
  let cacheGraph: CacheGraph | null = null;
  let cacheNote: string | null = null;
  const fileBytes = files.onnxSource?.byteLength ?? files.onnx.byteLength;
  const weightBytes = Math.max(p.bytes.byteLength, fileBytes) + external.reduce((sum, e) => sum + e.data.byteLength, 0);
  const plainPath = o.recompute !== null && weightBytes <= plainSessionMaxBytes;
  const source = graphSource(p, o, plainPath);
  const withPastFile = `${files.id}/${files.onnxWithPastFile ?? 'onnx/decoder_with_past.onnx'}`;
  const mainFolder = p.graph.folder;
  if (options.cache === false) {
    cacheNote = 'the key/value cache is turned off (--no-cache): generation recomputes the whole sequence at each step';
  } else if (mainSlots.length > 0 && plainPath) {
    // Generation keeps the fused operators' own path: a session of the graph as it is.
    ({ cacheGraph, cacheNote } = await openCacheGraph(ort, withHead(p.bytes, stream, [], file), file, config, sessionOptions(options, mainFolder), p.sessionExternal));
  } else if (mainSlots.length > 0) {
    cacheGraph = { session, shared: true, inputs: [...session.inputNames], slots: mainSlots, file };
  } else if (files.onnxWithPast) {
    // Its head on the last position too, so the prompt's first pass computes one row of logits; as it is where that does not load.
    const withPast = sessionGraph(files.onnxWithPast, files.onnxWithPastFile ?? 'onnx/decoder_with_past.onnx', options.backend, files.folder, files.onnxWithPastSource);
    const lastRow = cacheGraphOnLastRow(withPast.bytes, withPastFile);
    const cacheOptions = sessionOptions(options, withPast.folder);
    if (lastRow) ({ cacheGraph, cacheNote } = await openCacheGraph(ort, lastRow, withPastFile, config, cacheOptions, withPast.external));
    if (!cacheGraph) ({ cacheGraph, cacheNote } = await openCacheGraph(ort, withPast.bytes, withPastFile, config, cacheOptions, withPast.external));
  } else {
    cacheNote = `${file} has no key/value cache (no past_key_values inputs, and no decoder_with_past file beside it), so generation recomputes the whole sequence at each step`;
  }
  return {
    plan: o.plan,
    runPlan: o.plan,
    session,
    mainSlots,
    stream,
    cacheGraph,
    cacheNote,
    graphSource: source,
    folder: mainFolder,
    hasPlain: plainPath,
    precision: precisionLabel(p.summary),
    sessionNote,
    tableRenames: new Map(),
    emptyPastCheck: null,
  };
}
