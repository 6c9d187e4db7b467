import type * as Ort from 'onnxruntime-web';
import { parseModelConfig, type ModelConfig } from '../common/model-config';
import { addGraphOutputs, prepareGraph } from './onnx-edit';
import { headCounts, planGraph, type GraphPlan, type Probe } from './onnx-graph';
import { type GraphSummary } from './onnx-decode';
import {
  learnedPositions,
  NeighbourIndex,
  readEmbeddingTables,
  rotaryPositions,
  type EmbeddingTables,
  type Neighbour,
  type PositionsView,
} from './embedding-tables';
import { addAttentionEdits, HEAD_GATE_INPUT, Intervention, interventionMasks, KEY_KEEP_INPUT, type InterventionInput } from './intervention';
import { checkKnownOperators, explainSessionError } from './operator-support';
import { addFusedEdits, addFusedRecompute, withoutRecompute } from './fused-attention';
import { precisionLabel } from './graph-facts';
import { ONNX_TYPE, ortTypeName, tensorToFloat32 } from './tensor-data';
import { CACHE_ENTRIES, feedsFor, FED_INPUTS, metadataTypes, openCacheGraph, PAST_INPUT, pastSlots, type CacheEntry, type CacheGraph, type PastSlot } from './kv-cache';
import { ModelTokenizer } from './tokenizer';
import type { Capabilities, EngineModel } from './contract';
import { supportedViews } from './supported-views';

/** onnxruntime-web, or onnxruntime-node for the `native` backend: both are onnxruntime-common's API. */
export type OrtModule = typeof Ort;
/** `native` is onnxruntime-node's CPU execution provider (Node hosts only: the CLI, tests, the bench). */
export type BackendName = 'wasm' | 'webgpu' | 'native';

/** The files of a model folder, already read by the host (fetch in a browser, fs in Node). */
export interface ModelFiles {
  id: string;
  config: unknown;
  tokenizer: unknown;
  tokenizerConfig: unknown;
  onnx: Uint8Array;
  /** The ONNX file's path inside the model folder, for messages (default `onnx/model.onnx`). */
  onnxFile?: string;
  /** Optional key/value-cache graph (`decoder_with_past.onnx` or `decoder_with_past_model.onnx`), used to generate faster. */
  onnxWithPast?: Uint8Array | null;
  /** That file's path inside the model folder, for messages. */
  onnxWithPastFile?: string | null;
  /** External data files of the graph (`model.onnx_data`), by the file name the graph refers to. */
  externalData?: { path: string; data: Uint8Array }[];
}

export interface LoadOptions {
  backend: BackendName;
  threads: number;
  /** Whether to generate on the key/value cache where the model has one (default true; `ntl --no-cache` turns it off). */
  cache?: boolean;
}

/**
 * Session options for a backend. Every session of a model (instrumented, cache, edited) gets the same
 * ones, so the backends differ only in the execution provider and how threads are set: wasm reads
 * `env.wasm.numThreads` (set in `load`), native takes them per session.
 */
function sessionOptions(options: LoadOptions): Ort.InferenceSession.SessionOptions {
  const common = { graphOptimizationLevel: 'all' } as const;
  if (options.backend === 'native') {
    // ONNX Runtime's native optimiser would fuse DequantizeLinear + MatMul (weight-only int8) into
    // MatMulNBits, whose arithmetic differs from wasm's by 5e-3 in probability: QDQ fusion stays off,
    // so both backends compute the file as written (tests/engine/published-forms.test.ts).
    return {
      ...common,
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      extra: { session: { disable_quant_qdq: '1' } },
    };
  }
  return { ...common, executionProviders: [options.backend] };
}

export interface AttentionResult {
  layers: number;
  heads: number;
  /** Key/value heads (fewer than `heads` with grouped-query attention; the weights are per query head). */
  kvHeads: number;
  /** Per layer, row-major [head][query][key]. */
  data: Float32Array[];
  /**
   * The value vectors the weights multiply, per layer row-major [value head][position][headDim]
   * (value heads: `heads`, or the key/value heads a group of query heads shares); null when the
   * graph does not show them.
   */
  values: { heads: number; headDim: number; data: Float32Array[] } | null;
}

export interface EmbeddingResult {
  dim: number;
  /** Each row-major [position][dim], or null when the graph does not expose it. */
  token: Float32Array | null;
  position: Float32Array | null;
  sum: Float32Array | null;
}

/** Everything one forward pass gives the cells. */
export interface ForwardResult {
  ids: number[];
  vocab: number;
  /** Logits at the last position. */
  lastLogits: Float32Array;
  attention: AttentionResult | null;
  /** Why attention is missing, when it is. */
  attentionNote: string | null;
  embeddings: EmbeddingResult;
  /** The residual stream entering each block and the final norm, each row-major [position][hidden]. */
  residual: Float32Array[] | null;
  /**
   * The stream inside each block after the attention's addition (before the MLP), row-major
   * [position][hidden]: with `residual`, block l's attention output is mid[l] − residual[l] and its
   * MLP output residual[l + 1] − mid[l]. Null when the graph does not show it.
   */
  residualMid: Float32Array[] | null;
  forwardMs: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * A tensor's floats as an array that owns its whole buffer, so the worker can transfer it alone.
 * ONNX Runtime hands each output over in a fresh buffer: copied only when it does not (a view into a
 * larger buffer, or a buffer already given to another field of the result).
 */
function ownedFloat32(tensor: Ort.Tensor, taken: Set<ArrayBufferLike>): Float32Array {
  const data = tensorToFloat32(tensor);
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !taken.has(data.buffer)) {
    taken.add(data.buffer);
    return data;
  }
  return data.slice();
}

/** Logits at the last position of each of `rows` sequences of length `n`, from a [rows, n, vocab] tensor. */
function lastPositionLogits(logits: Ort.Tensor | undefined, n: number, rows: number): Float32Array[] {
  if (!logits) throw new Error('the session returned no logits');
  const vocab = logits.dims[logits.dims.length - 1] ?? 0;
  const all = tensorToFloat32(logits);
  return Array.from({ length: rows }, (_, r) => all.slice(((r + 1) * n - 1) * vocab, (r + 1) * n * vocab));
}

/** A loaded ONNX model (the engine contract's ONNX engine): tokenizer, parsed config, and one instrumented ONNX Runtime session. */
export class OnnxModel implements EngineModel {
  /**
   * With recomputed fused attention, generation and logits-only passes run a second session of the
   * graph as it is, so the recomputation never slows them; that session holds the weights again, so
   * it is made only for graphs up to this size (onnxruntime-web's sessions share one 4 GiB wasm
   * memory). Larger graphs generate on the instrumented session, recomputation included.
   */
  static plainSessionMaxBytes = 512 * 2 ** 20;

  private constructor(
    readonly id: string,
    readonly config: ModelConfig,
    readonly tokenizer: ModelTokenizer,
    readonly plan: GraphPlan,
    readonly backend: BackendName,
    readonly threads: number,
    readonly loadMs: number,
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private cacheGraph: CacheGraph | null,
    /** Why generation does not run on a key/value cache, when it does not. */
    public cacheNote: string | null,
  ) {}

  private cache: CacheEntry[] = [];
  /** The graph with attention edits (interventions), created on first use. */
  private editSession: Ort.InferenceSession | null = null;
  /** With recomputed fused attention: the graph as it is, for passes that read only logits (created on first use). */
  private plainSession: Ort.InferenceSession | null = null;
  private plainBytes: Uint8Array | null = null;
  /** The prepared graph bytes, kept to build the edited graph from. */
  private graphSource: { bytes: Uint8Array; file: string; external: readonly { path: string; data: Uint8Array }[] } = { bytes: new Uint8Array(), file: '', external: [] };
  /** The decoded graph, kept to read its embedding tables on first use. */
  private graph: GraphSummary | null = null;
  private tables: EmbeddingTables | null = null;
  private neighbourIndex: NeighbourIndex | null = null;
  /** The shape of the last attention probabilities read (4-D, or 5-D for grouped-query graphs that keep the groups). */
  private attentionDims: number[] | null = null;
  /** The past inputs of the instrumented graph (a graph with Optimum's cache inputs), fed empty for a whole-sequence pass. */
  private mainSlots: PastSlot[] = [];

  readonly source = 'onnx' as const;

  /** What this graph shows, read from its plan: the views the instrumentation found, and the cache. */
  get capabilities(): Capabilities {
    const views = supportedViews(this.plan);
    return {
      attention: views.attention.ok,
      embeddings: views.embeddings.ok,
      residual: views.residual.ok,
      logitLens: views.logitLens.ok,
      interventions: views.attention.ok,
      fullVocabulary: true,
      kvCache: this.hasCache,
    };
  }

  /** Whether generation runs on the key/value cache rather than recomputing the sequence. */
  get hasCache(): boolean {
    return this.cacheGraph !== null;
  }

  /** The weights' format as people name it (fp16, int8 dynamic, q4 block 32, float32), read from the graph. */
  get precision(): string {
    return this.graph ? precisionLabel(this.graph) : 'unknown';
  }

  /** The ONNX file this model runs, inside its folder. */
  get file(): string {
    return this.graphSource.file;
  }

  /** The file the key/value cache runs on (the model's own graph, its merged decoder, or a decoder_with_past file), when used. */
  get cacheFile(): string | null {
    return this.cacheGraph?.file ?? null;
  }

  /** The element type ONNX Runtime computes for a graph output the engine reads (float32, float16, ...). */
  outputType(tensor: string): string | null {
    return metadataTypes(this.session.outputMetadata).get(tensor)?.type ?? null;
  }

  static async load(ort: OrtModule, files: ModelFiles, options: LoadOptions): Promise<OnnxModel> {
    const started = now();
    const config = parseModelConfig(files.config, `${files.id}/config.json`);
    const tokenizer = new ModelTokenizer(files.tokenizer, files.tokenizerConfig);
    const file = `${files.id}/${files.onnxFile ?? 'onnx/model.onnx'}`;
    const external = files.externalData ?? [];
    const prepared = prepareGraph(files.onnx, file, new Map(external.map((e) => [e.path, e.data])));
    const missing = prepared.graph.externalFiles.filter((f) => !external.some((e) => e.path === f));
    if (missing.length > 0) throw new Error(`${file}: its weights are in external data ${missing.join(', ')}, which was not provided`);
    let plan = planGraph(prepared.graph, file);
    checkKnownOperators(plan, file);
    if (tokenizer.info.vocabSize > config.vocabSize) {
      throw new Error(
        `${files.id}/tokenizer.json: vocabulary of ${tokenizer.info.vocabSize} tokens is larger than the model's ${config.vocabSize} logits (config.json "vocab_size")`,
      );
    }
    const unsupported = plan.inputs.filter((i) => !FED_INPUTS.has(i.name) && !PAST_INPUT.test(i.name));
    if (unsupported.length > 0) {
      throw new Error(
        `${file}: graph inputs the engine cannot feed: ${unsupported.map((i) => `${i.name} (${ortTypeName(i.elemType)} [${i.dims.join(', ')}])`).join(', ')}; it feeds input_ids, attention_mask, position_ids, token_type_ids, cache_position, use_cache_branch and past_key_values.{layer}.key/value`,
      );
    }
    // Fused attention operators get their weights recomputed beside them (instrumented pass only).
    let recompute = plan.fusedRecompute?.ok ? plan.fusedRecompute : null;
    let observed = recompute ? addFusedRecompute(prepared.bytes, recompute, prepared.graph.nodes, file) : prepared.bytes;
    if (options.backend !== 'native') ort.env.wasm.numThreads = options.threads;
    const create = (bytes: Uint8Array): Promise<Ort.InferenceSession> =>
      ort.InferenceSession.create(addGraphOutputs(bytes, plan.probes.map((p) => p.tensor)), {
        ...sessionOptions(options),
        ...(external.length > 0 ? { externalData: external } : {}),
      });
    let session: Ort.InferenceSession;
    try {
      session = await create(observed).catch(async (cause: unknown) => {
        if (!recompute) throw cause;
        // The model still runs without the recomputation; its attention view then says why it has no weights.
        plan = withoutRecompute(plan, `the graph with the recomputation could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`);
        recompute = null;
        observed = prepared.bytes;
        return create(observed);
      });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new Error(explainSessionError(message, plan, file, options.backend));
    }
    // The graph's own past inputs (Optimum's model.onnx and decoder_model.onnx with past): fed empty
    // for a whole sequence, and the same session continues from its present outputs.
    const mainSlots = pastSlots(session, config, file);
    if (typeof mainSlots === 'string') {
      await session.release();
      throw new Error(mainSlots);
    }
    let cacheGraph: CacheGraph | null = null;
    let cacheNote: string | null = null;
    const weightBytes = prepared.bytes.byteLength + external.reduce((sum, e) => sum + e.data.byteLength, 0);
    const plainPath = recompute !== null && weightBytes <= OnnxModel.plainSessionMaxBytes;
    const withPastFile = `${files.id}/${files.onnxWithPastFile ?? 'onnx/decoder_with_past.onnx'}`;
    if (options.cache === false) {
      cacheNote = 'the key/value cache is turned off (--no-cache): generation recomputes the whole sequence at each step';
    } else if (mainSlots.length > 0 && plainPath) {
      // Generation keeps the fused operators' own path: a session of the graph as it is.
      ({ cacheGraph, cacheNote } = await openCacheGraph(ort, prepared.bytes, file, config, sessionOptions(options), external));
    } else if (mainSlots.length > 0) {
      cacheGraph = { session, shared: true, inputs: [...session.inputNames], slots: mainSlots, file };
    } else if (prepared.merged) {
      // A merged decoder: its with-past branch, chosen by use_cache_branch = true.
      ({ cacheGraph, cacheNote } = await openCacheGraph(ort, files.onnx, file, config, sessionOptions(options), external));
    } else if (files.onnxWithPast) {
      ({ cacheGraph, cacheNote } = await openCacheGraph(ort, files.onnxWithPast, withPastFile, config, sessionOptions(options), []));
    } else {
      cacheNote = `${file} has no key/value cache (no past_key_values inputs, and no decoder_with_past file beside it), so generation recomputes the whole sequence at each step`;
    }
    const model = new OnnxModel(files.id, config, tokenizer, plan, options.backend, options.threads, now() - started, ort, session, cacheGraph, cacheNote);
    model.mainSlots = mainSlots;
    model.graphSource = { bytes: observed, file, external };
    if (plainPath) model.plainBytes = prepared.bytes;
    model.graph = prepared.graph;
    return model;
  }

  /** The token embedding and learned positional tables, read from the graph's weights once and kept. */
  embeddingTables(): EmbeddingTables {
    if (!this.tables) {
      if (!this.graph) throw new Error(`${this.id}: the graph is not available`);
      this.tables = readEmbeddingTables(this.graph);
    }
    return this.tables;
  }

  /** The `k` vocabulary tokens whose embedding rows are most similar (cosine) to token `id`'s, itself first. */
  neighbours(id: number, k: number): Neighbour[] {
    const token = this.embeddingTables().token;
    if ('unavailable' in token) throw new Error(`${this.id}: the token embedding table cannot be read: ${token.unavailable}`);
    this.neighbourIndex ??= new NeighbourIndex(token);
    return this.neighbourIndex.nearest(id, k);
  }

  /** How this model tells positions apart: its learned table's first `count` rows, rotary angles, or why neither. */
  positions(count: number): PositionsView {
    const { position } = this.embeddingTables();
    if (position && 'unavailable' in position) return { kind: 'none', reason: `the positional embedding table cannot be read: ${position.unavailable}` };
    if (position) return learnedPositions(position, count);
    if (this.plan.positions === 'rotary' && this.graph) {
      return rotaryPositions(this.graph, this.config.hidden / this.config.heads, this.config.ropeTheta);
    }
    return {
      kind: 'none',
      reason: 'no learned positional table and no rotary position encoding were found in the graph, so this model has no positional encoding to show',
    };
  }

  /** The probes of one role, in graph order. */
  probes(role: Probe['role']): Probe[] {
    return this.plan.probes.filter((p) => p.role === role);
  }

  /** Feeds for `rows` sequences of equal length, as one [rows, length] batch, from the start (an empty past where the graph takes one). */
  private feeds(rows: readonly (readonly number[])[]): Record<string, Ort.Tensor> {
    return feedsFor(this.ort, this.plan.inputs.map((i) => i.name), this.mainSlots, rows, [], 0);
  }

  /** Whether the graph takes several sequences at once (a dynamic batch dimension on input_ids). */
  get isBatchable(): boolean {
    const batch = this.plan.inputs.find((i) => i.name === 'input_ids')?.dims[0];
    return typeof batch === 'string' || batch === undefined;
  }

  /**
   * Next-token logits for several sequences of the same length in one forward pass (no
   * instrumentation): what a comparison's columns need at each step.
   */
  async forwardBatch(rows: readonly (readonly number[])[]): Promise<{ lastLogits: Float32Array[]; forwardMs: number }> {
    const n = rows[0]?.length ?? 0;
    this.checkLength(n);
    if (rows.some((r) => r.length !== n)) throw new Error('a batch needs sequences of equal length');
    if (rows.length > 1 && !this.isBatchable) throw new Error('this graph has a fixed batch size of 1');
    const started = now();
    const out = await (await this.logitsSession()).run(this.feeds(rows), [this.plan.logitsOutput]);
    const forwardMs = now() - started;
    try {
      return { lastLogits: lastPositionLogits(out[this.plan.logitsOutput], n, rows.length), forwardMs };
    } finally {
      for (const tensor of Object.values(out)) tensor.dispose();
    }
  }

  /**
   * Logits at every position of one sequence, row-major [position][vocab], from one pass of the
   * logits-only session: what prompt surprisal needs (row i predicts token i + 1). The other passes
   * keep only the last row.
   */
  async positionLogits(ids: readonly number[]): Promise<{ logits: Float32Array; vocab: number; forwardMs: number }> {
    this.checkLength(ids.length);
    const started = now();
    const out = await (await this.logitsSession()).run(this.feeds([ids]), [this.plan.logitsOutput]);
    const forwardMs = now() - started;
    try {
      const tensor = out[this.plan.logitsOutput];
      if (!tensor) throw new Error('the session returned no logits');
      const vocab = tensor.dims[tensor.dims.length - 1] ?? 0;
      return { logits: tensorToFloat32(tensor).slice(0, ids.length * vocab), vocab, forwardMs };
    } finally {
      for (const tensor of Object.values(out)) tensor.dispose();
    }
  }

  /** Refuses an empty sequence or one longer than the context, naming the limit. */
  private checkLength(n: number): void {
    if (n === 0) throw new Error('the prompt has no tokens');
    if (n > this.config.context) throw new Error(`${n} tokens exceed the model's context of ${this.config.context}`);
  }

  /** Runs the model once; with `instrument`, also reads attention and embeddings. */
  async forward(ids: readonly number[], instrument = true): Promise<ForwardResult> {
    this.checkLength(ids.length);
    const wanted = [this.plan.logitsOutput, ...(instrument ? this.plan.probes.map((p) => p.tensor) : [])];
    const started = now();
    const out = await (instrument ? this.session : await this.logitsSession()).run(this.feeds([ids]), wanted);
    return this.readForward(out, ids, instrument, now() - started);
  }

  /**
   * The forward pass with an intervention: heads switched off and tokens removed from positions'
   * attention (renormalised), by a mask multiplied into the attention probabilities of an edited
   * copy of the graph (built on first use, then kept). Attention in the result is the edited one.
   */
  async forwardEdited(ids: readonly number[], edit: InterventionInput, instrument = true): Promise<ForwardResult> {
    this.checkLength(ids.length);
    const parsed = Intervention.parse(edit);
    const attention = this.probes('attention').sort((a, b) => a.layer - b.layer);
    if (attention.length === 0) {
      throw new Error(
        this.plan.fusedAttention.length > 0
          ? `${this.id}: attention is computed inside fused ${this.plan.fusedAttention.join(', ')} operators; its weights never exist, so they cannot be edited`
          : `${this.id}: no Softmax over attention scores was found, so attention cannot be edited`,
      );
    }
    const heads = headCounts(this.plan, { heads: this.config.heads, kvHeads: this.config.kvHeads }).heads;
    const { gate, keep } = interventionMasks(parsed, attention.length, heads, ids.length);
    // The gates broadcast over the probabilities: [1, heads, 1, 1], or [1, kv-heads, group, 1, 1] for 5-D ones.
    if (!this.attentionDims) await this.forward(ids);
    const dims = this.attentionDims ?? [];
    const gateShape = dims.length === 5 ? [1, dims[1] ?? 1, -1, 1, 1] : [1, -1, 1, 1];
    this.editSession ??= await this.createEditSession(attention.map((p) => p.tensor), gateShape);
    const feeds = this.feeds([ids]);
    feeds[HEAD_GATE_INPUT] = new this.ort.Tensor('float32', gate, [attention.length, heads]);
    feeds[KEY_KEEP_INPUT] = new this.ort.Tensor('float32', keep, [attention.length, ids.length, ids.length]);
    const wanted = [this.plan.logitsOutput, ...(instrument ? this.plan.probes.map((p) => p.tensor) : [])];
    const started = now();
    const out = await this.editSession.run(feeds, wanted);
    return this.readForward(out, ids, instrument, now() - started);
  }

  private async createEditSession(attentionTensors: string[], gateShape: number[]): Promise<Ort.InferenceSession> {
    const { bytes, file, external } = this.graphSource;
    const probsType = this.outputType(attentionTensors[0] ?? '') === 'float16' ? ONNX_TYPE.float16 : ONNX_TYPE.float;
    let withEdits = addAttentionEdits(bytes, attentionTensors, probsType, file, gateShape);
    // Fused operators: a switched-off head's slice of the output zeroed, a layer with a token taken out decomposed.
    if (this.plan.fusedRecompute?.ok) withEdits = addFusedEdits(withEdits, this.plan.fusedRecompute, this.plan.opset, file);
    const edited = addGraphOutputs(withEdits, this.plan.probes.map((p) => p.tensor));
    try {
      return await this.ort.InferenceSession.create(edited, {
        ...sessionOptions({ backend: this.backend, threads: this.threads }),
        ...(external.length > 0 ? { externalData: [...external] } : {}),
      });
    } catch (cause) {
      throw new Error(`${file}: the graph with the attention edits could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  /**
   * The value vectors of every layer, when the graph shows them as [1, heads or kv-heads, n, headDim]
   * (or [1, kv-heads, group or 1, n, headDim] beside 5-D probabilities, read as heads × group).
   */
  private readValues(out: Ort.InferenceSession.OnnxValueMapType, n: number, heads: number, layers: number): AttentionResult['values'] {
    const tensors = this.probes('attention-values').map((p) => out[p.tensor]);
    const shape = (t: Ort.Tensor | undefined): number[] | null => {
      const d = t?.dims ?? [];
      if (d.length === 4) return [...d];
      return d.length === 5 ? [d[0] ?? 0, (d[1] ?? 0) * (d[2] ?? 0), d[3] ?? 0, d[4] ?? 0] : null;
    };
    const dims = shape(tensors[0]) ?? [];
    const valueHeads = dims[1] ?? 0;
    const headDim = dims[3] ?? 0;
    const fits = (t: Ort.Tensor | undefined): boolean => {
      const d = shape(t);
      return d !== null && d[0] === 1 && d[1] === valueHeads && d[2] === n && d[3] === headDim;
    };
    if (tensors.length !== layers || !tensors.every(fits) || valueHeads === 0 || heads % valueHeads !== 0) return null;
    return { heads: valueHeads, headDim, data: tensors.map((t) => (t ? tensorToFloat32(t).slice() : new Float32Array())) };
  }

  private readForward(out: Ort.InferenceSession.OnnxValueMapType, ids: readonly number[], instrument: boolean, forwardMs: number): ForwardResult {
    try {
      const lastLogits = lastPositionLogits(out[this.plan.logitsOutput], ids.length, 1)[0] ?? new Float32Array();
      const result: ForwardResult = {
        ids: [...ids],
        vocab: lastLogits.length,
        lastLogits,
        attention: null,
        attentionNote: null,
        embeddings: { dim: this.config.hidden, token: null, position: null, sum: null },
        residual: null,
        residualMid: null,
        forwardMs,
      };
      if (!instrument) return result;
      const taken = new Set<ArrayBufferLike>([lastLogits.buffer]);
      const read = (role: Probe['role']): Float32Array | null => {
        const probe = this.probes(role)[0];
        const tensor = probe ? out[probe.tensor] : undefined;
        return tensor ? ownedFloat32(tensor, taken) : null;
      };
      result.embeddings.token = read('token-embedding');
      result.embeddings.position = read('position-embedding');
      result.embeddings.sum = read('embedding-sum');
      const streams = this.probes('residual').map((p) => out[p.tensor]);
      if (streams.length > 0 && streams.every((t) => t !== undefined && t.dims.at(-1) === this.config.hidden)) {
        result.residual = streams.map((t) => (t ? ownedFloat32(t, taken) : new Float32Array()));
        const mids = this.probes('residual-mid').map((p) => out[p.tensor]);
        if (mids.length === streams.length - 1 && mids.every((t) => t !== undefined && t.dims.at(-1) === this.config.hidden)) {
          result.residualMid = mids.map((t) => (t ? ownedFloat32(t, taken) : new Float32Array()));
        }
      }
      const layers: Float32Array[] = [];
      let heads = 0;
      for (const probe of this.probes('attention')) {
        const tensor = out[probe.tensor];
        const dims = tensor?.dims ?? [];
        const n = ids.length;
        // [1, heads, n, n], or grouped-query attention kept as [1, kv-heads, group, n, n]: the same
        // memory read as heads kv·group + g, the order in which query heads share key/value heads.
        if (tensor && (dims.length === 4 || dims.length === 5) && dims[0] === 1 && dims.at(-2) === n && dims.at(-1) === n) {
          heads = dims.length === 5 ? (dims[1] ?? 0) * (dims[2] ?? 0) : (dims[1] ?? 0);
          this.attentionDims = [...dims];
          layers.push(ownedFloat32(tensor, taken));
        }
      }
      if (layers.length > 0) {
        const kvHeads = Math.min(heads, headCounts(this.plan, { heads, kvHeads: this.config.kvHeads }).kvHeads);
        result.attention = { layers: layers.length, heads, kvHeads, data: layers, values: this.readValues(out, ids.length, heads, layers.length) };
      }
      else if (this.plan.fusedAttention.length > 0) {
        const refused = this.plan.fusedRecompute && !this.plan.fusedRecompute.ok ? ` They are not recomputed: ${this.plan.fusedRecompute.reason}.` : '';
        result.attentionNote = `This model computes attention inside fused ${this.plan.fusedAttention.join(', ')} operators, so its attention weights never exist as a tensor and cannot be shown.${refused}`;
      } else {
        result.attentionNote = 'No Softmax over attention scores was found in this graph, so attention weights cannot be shown.';
      }
      return result;
    } finally {
      for (const tensor of Object.values(out)) tensor.dispose();
    }
  }

  /**
   * Logits at the last position of `ids`. With a cache graph, only the tokens after the longest
   * cached prefix run (a few recent sequences keep their cache, so comparison columns and forks each
   * continue theirs); without one, the whole sequence is recomputed.
   */
  async nextLogits(ids: readonly number[]): Promise<Float32Array> {
    const graph = this.cacheGraph;
    if (!graph) return (await this.forward(ids, false)).lastLogits;
    this.checkLength(ids.length);
    const best = this.cachedPrefix(ids);
    const pastLength = best?.ids.length ?? 0;
    const fresh = ids.slice(pastLength);
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await graph.session.run(feedsFor(this.ort, graph.inputs, graph.slots, [fresh], best?.past ?? [], pastLength), ['logits', ...graph.slots.map((s) => s.output)]);
    } catch (cause) {
      // A backend that cannot run the cache graph (zero-length past tensors, say): recompute from now on, and say so.
      this.dropCache(cause);
      return (await this.forward(ids, false)).lastLogits;
    }
    const last = lastPositionLogits(out['logits'], fresh.length, 1)[0] ?? new Float32Array();
    out['logits']?.dispose();
    const past = graph.slots.map((s) => out[s.output]);
    if (past.every((t) => t !== undefined)) this.remember(ids, past.filter((t) => t !== undefined));
    return last;
  }

  /** Stops using a cache graph that failed, keeping the reason for the top bar and `--json`. */
  private dropCache(cause: unknown): void {
    const graph = this.cacheGraph;
    if (!graph) return;
    this.cacheNote = `the key/value cache (${graph.file}) failed on ${this.backend}: ${cause instanceof Error ? cause.message : String(cause)}; generation recomputes the whole sequence at each step`;
    this.cacheGraph = null;
    for (const entry of this.cache) for (const t of entry.past) t.dispose();
    this.cache = [];
    if (!graph.shared) void graph.session.release();
  }

  /** The longest cached sequence that is a proper prefix of `ids`. */
  private cachedPrefix(ids: readonly number[]): CacheEntry | null {
    let best: CacheEntry | null = null;
    for (const entry of this.cache) {
      const n = entry.ids.length;
      if (n < ids.length && n > (best?.ids.length ?? 0) && entry.ids.every((id, i) => id === ids[i])) best = entry;
    }
    return best;
  }

  private remember(ids: readonly number[], past: Ort.Tensor[]): void {
    this.cache.push({ ids: [...ids], past });
    // Least recently added first out; a dropped entry's tensors are freed unless another shares them.
    while (this.cache.length > CACHE_ENTRIES) {
      const dropped = this.cache.shift();
      for (const t of dropped?.past ?? []) if (!this.cache.some((e) => e.past.includes(t))) t.dispose();
    }
  }

  /**
   * Next-token logits for several sequences of equal length in one pass of the cache graph: each
   * continues its own cached prefix (the comparison's columns, each one token further than its last
   * step), their caches stacked along the batch, cut to the shortest of them; each gets its new
   * cache back. A model without a cache graph takes `forwardBatch` (recomputing).
   */
  async nextLogitsBatch(rows: readonly (readonly number[])[]): Promise<{ lastLogits: Float32Array[]; forwardMs: number }> {
    const graph = this.cacheGraph;
    const n = rows[0]?.length ?? 0;
    if (!graph || rows.length < 2 || !this.isBatchable || rows.some((r) => r.length !== n)) return this.forwardBatch(rows);
    this.checkLength(n);
    const prefixes = rows.map((ids) => this.cachedPrefix(ids));
    const pastLength = Math.min(...prefixes.map((p) => p?.ids.length ?? 0));
    const started = now();
    const batch = rows.length;
    const fresh = rows.map((ids) => ids.slice(pastLength));
    const width = n - pastLength;
    const past = graph.slots.map((slot, k) => {
      const { kvHeads: kv, headDim } = slot;
      const per = kv * pastLength * headDim;
      const stacked = slot.type === 'float16' ? new Uint16Array(batch * per) : new Float32Array(batch * per);
      if (pastLength > 0) {
        prefixes.forEach((p, r) => {
          const data = p?.past[k]?.data;
          const own = p?.ids.length ?? 0;
          if (!(data instanceof Float32Array || data instanceof Uint16Array)) return;
          // Each head's first `pastLength` positions of this row's cache ([1, kv, own, headDim]).
          for (let h = 0; h < kv; h++) stacked.set(data.subarray(h * own * headDim, (h * own + pastLength) * headDim), r * per + h * pastLength * headDim);
        });
      }
      return new this.ort.Tensor(slot.type, stacked, [batch, kv, pastLength, headDim]);
    });
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await graph.session.run(feedsFor(this.ort, graph.inputs, graph.slots, fresh, past, pastLength), ['logits', ...graph.slots.map((s) => s.output)]);
    } catch (cause) {
      this.dropCache(cause);
      return this.forwardBatch(rows);
    }
    const lastLogits = lastPositionLogits(out['logits'], width, batch);
    out['logits']?.dispose();
    const presents = graph.slots.map((s) => out[s.output]);
    if (presents.every((t) => t?.data instanceof Float32Array || t?.data instanceof Uint16Array)) {
      const length = pastLength + width;
      rows.forEach((ids, r) => {
        const own = presents.map((t, k) => {
          const { kvHeads: kv, headDim, type } = graph.slots[k] ?? { kvHeads: 0, headDim: 0, type: 'float32' };
          const size = kv * length * headDim;
          return new this.ort.Tensor(type, (t?.data as Float32Array | Uint16Array).slice(r * size, (r + 1) * size), [1, kv, length, headDim]);
        });
        this.remember(ids, own);
      });
    }
    for (const t of presents) t?.dispose();
    return { lastLogits, forwardMs: now() - started };
  }

  /**
   * The session for passes that read only logits. ONNX Runtime computes every graph output whatever
   * is fetched, so a model whose fused attention is recomputed generates on a session of the graph as
   * it is: the operators' own path, without the recomputation.
   */
  private async logitsSession(): Promise<Ort.InferenceSession> {
    if (!this.plainBytes) return this.session;
    const { external } = this.graphSource;
    this.plainSession ??= await this.ort.InferenceSession.create(this.plainBytes, {
      ...sessionOptions({ backend: this.backend, threads: this.threads }),
      ...(external.length > 0 ? { externalData: [...external] } : {}),
    });
    return this.plainSession;
  }

  async release(): Promise<void> {
    await this.plainSession?.release();
    this.plainSession = null;
    await this.editSession?.release();
    this.editSession = null;
    for (const entry of this.cache) for (const t of entry.past) t.dispose();
    this.cache = [];
    if (this.cacheGraph && !this.cacheGraph.shared) await this.cacheGraph.session.release();
    this.cacheGraph = null;
    await this.session.release();
  }
}
