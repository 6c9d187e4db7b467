import type * as Ort from 'onnxruntime-web';
import { parseModelConfig, type ModelConfig } from '../common/model-config';
import { addGraphOutputs, headCounts, planGraph, prepareGraph, type GraphPlan, type GraphSummary, type Probe } from './onnx-graph';
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
import { ModelTokenizer } from './tokenizer';

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
  /** Optional key/value-cache graph (`onnx/decoder_with_past.onnx`), used to generate faster. */
  onnxWithPast?: Uint8Array | null;
  /** External data files of the graph (`model.onnx_data`), by the file name the graph refers to. */
  externalData?: { path: string; data: Uint8Array }[];
}

/** A cached past for one token sequence: the present keys and values after it, per layer. */
interface CacheEntry {
  ids: number[];
  past: Ort.Tensor[];
}

/** How many sequences keep their cache: enough for six comparison columns and the Sample cell. */
const CACHE_ENTRIES = 8;

export interface LoadOptions {
  backend: BackendName;
  threads: number;
}

/**
 * Session options for a backend. Every session of a model (instrumented, cache, edited) gets the same
 * ones, so the backends differ only in the execution provider and how threads are set: wasm reads
 * `env.wasm.numThreads` (set in `load`), native takes them per session.
 */
function sessionOptions(options: LoadOptions): Ort.InferenceSession.SessionOptions {
  const common = { graphOptimizationLevel: 'all' } as const;
  if (options.backend === 'native') {
    return { ...common, executionProviders: ['cpu'], intraOpNumThreads: options.threads, interOpNumThreads: 1, executionMode: 'sequential' };
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

function toFloat32(tensor: Ort.Tensor): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint16Array || data instanceof Float64Array) return Float32Array.from(data as ArrayLike<number>);
  throw new Error(`unexpected tensor type ${tensor.type}`);
}

/**
 * A tensor's floats as an array that owns its whole buffer, so the worker can transfer it alone.
 * ONNX Runtime hands each output over in a fresh buffer: copied only when it does not (a view into a
 * larger buffer, or a buffer already given to another field of the result).
 */
function ownedFloat32(tensor: Ort.Tensor, taken: Set<ArrayBufferLike>): Float32Array {
  const data = toFloat32(tensor);
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
  const all = toFloat32(logits);
  return Array.from({ length: rows }, (_, r) => all.slice(((r + 1) * n - 1) * vocab, (r + 1) * n * vocab));
}

/** A loaded model: tokenizer, parsed config, and one instrumented ONNX Runtime session. */
export class EngineModel {
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
    private cacheSession: Ort.InferenceSession | null,
    /** Why the cache graph is not used, when a model folder has one that does not fit or fails. */
    public cacheNote: string | null,
  ) {}

  private cache: CacheEntry[] = [];
  /** The graph with attention edits (interventions), created on first use. */
  private editSession: Ort.InferenceSession | null = null;
  /** The prepared graph bytes, kept to build the edited graph from. */
  private source: { bytes: Uint8Array; file: string; external: readonly { path: string; data: Uint8Array }[] } = { bytes: new Uint8Array(), file: '', external: [] };
  /** The decoded graph, kept to read its embedding tables on first use. */
  private graph: GraphSummary | null = null;
  private tables: EmbeddingTables | null = null;
  private neighbourIndex: NeighbourIndex | null = null;

  /** Whether generation runs on the key/value cache rather than recomputing the sequence. */
  get hasCache(): boolean {
    return this.cacheSession !== null;
  }

  static async load(ort: OrtModule, files: ModelFiles, options: LoadOptions): Promise<EngineModel> {
    const started = now();
    const config = parseModelConfig(files.config, `${files.id}/config.json`);
    const tokenizer = new ModelTokenizer(files.tokenizer, files.tokenizerConfig);
    const file = `${files.id}/onnx/model.onnx`;
    const external = files.externalData ?? [];
    const prepared = prepareGraph(files.onnx, file, new Map(external.map((e) => [e.path, e.data])));
    const missing = prepared.graph.externalFiles.filter((f) => !external.some((e) => e.path === f));
    if (missing.length > 0) throw new Error(`${file}: its weights are in external data ${missing.join(', ')}, which was not provided`);
    const plan = planGraph(prepared.graph, file);
    checkKnownOperators(plan, file);
    if (tokenizer.info.vocabSize > config.vocabSize) {
      throw new Error(
        `${files.id}/tokenizer.json: vocabulary of ${tokenizer.info.vocabSize} tokens is larger than the model's ${config.vocabSize} logits (config.json "vocab_size")`,
      );
    }
    const unsupported = plan.inputs.filter((i) => !['input_ids', 'attention_mask', 'position_ids', 'token_type_ids'].includes(i.name));
    if (unsupported.length > 0) {
      const hint = unsupported.some((i) => i.name.startsWith('past_key_values'))
        ? ' (a decoder that needs a key/value cache as input; export one without past, or a merged decoder with use_cache_branch)'
        : '';
      throw new Error(`${file}: graph inputs the engine cannot feed: ${unsupported.map((i) => i.name).join(', ')}${hint}`);
    }
    const instrumented = addGraphOutputs(prepared.bytes, plan.probes.map((p) => p.tensor), plan.floatType);
    if (options.backend !== 'native') ort.env.wasm.numThreads = options.threads;
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(instrumented, {
        ...sessionOptions(options),
        ...(external.length > 0 ? { externalData: external } : {}),
      });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new Error(explainSessionError(message, plan, file, options.backend));
    }
    let cacheSession: Ort.InferenceSession | null = null;
    let cacheNote: string | null = null;
    if (files.onnxWithPast) {
      try {
        cacheSession = await ort.InferenceSession.create(files.onnxWithPast, sessionOptions(options));
        const pastNames = Array.from({ length: config.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
        const missing = ['input_ids', ...pastNames].filter((n) => !cacheSession?.inputNames.includes(n));
        if (missing.length > 0 || !cacheSession.outputNames.includes('logits')) {
          cacheNote = `${files.id}/onnx/decoder_with_past.onnx is not used: it lacks ${missing.length > 0 ? missing.join(', ') : 'a logits output'}`;
          await cacheSession.release();
          cacheSession = null;
        }
      } catch (cause) {
        cacheNote = `${files.id}/onnx/decoder_with_past.onnx is not used: ${cause instanceof Error ? cause.message : String(cause)}`;
        cacheSession = null;
      }
    }
    const model = new EngineModel(files.id, config, tokenizer, plan, options.backend, options.threads, now() - started, ort, session, cacheSession, cacheNote);
    model.source = { bytes: prepared.bytes, file, external };
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

  /** Feeds for `rows` sequences of equal length, as one [rows, length] batch. */
  private feeds(rows: readonly (readonly number[])[]): Record<string, Ort.Tensor> {
    const batch = rows.length;
    const n = rows[0]?.length ?? 0;
    const feeds: Record<string, Ort.Tensor> = {};
    const int64 = (values: (row: number, i: number) => number): Ort.Tensor =>
      new this.ort.Tensor('int64', BigInt64Array.from({ length: batch * n }, (_, k) => BigInt(values(Math.floor(k / n), k % n))), [batch, n]);
    for (const input of this.plan.inputs) {
      if (input.name === 'input_ids') feeds[input.name] = int64((r, i) => rows[r]?.[i] ?? 0);
      else if (input.name === 'attention_mask') feeds[input.name] = int64(() => 1);
      else if (input.name === 'position_ids') feeds[input.name] = int64((_, i) => i);
      else if (input.name === 'token_type_ids') feeds[input.name] = int64(() => 0);
    }
    return feeds;
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
    const out = await this.session.run(this.feeds(rows), [this.plan.logitsOutput]);
    const forwardMs = now() - started;
    try {
      return { lastLogits: lastPositionLogits(out[this.plan.logitsOutput], n, rows.length), forwardMs };
    } finally {
      for (const tensor of Object.values(out)) tensor.dispose();
    }
  }

  /** Runs the model once; with `instrument`, also reads attention and embeddings. */
  /** Refuses an empty sequence or one longer than the context, naming the limit. */
  private checkLength(n: number): void {
    if (n === 0) throw new Error('the prompt has no tokens');
    if (n > this.config.context) throw new Error(`${n} tokens exceed the model's context of ${this.config.context}`);
  }

  async forward(ids: readonly number[], instrument = true): Promise<ForwardResult> {
    this.checkLength(ids.length);
    const wanted = [this.plan.logitsOutput, ...(instrument ? this.plan.probes.map((p) => p.tensor) : [])];
    const started = now();
    const out = await this.session.run(this.feeds([ids]), wanted);
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
    this.editSession ??= await this.createEditSession(attention.map((p) => p.tensor));
    const feeds = this.feeds([ids]);
    feeds[HEAD_GATE_INPUT] = new this.ort.Tensor('float32', gate, [attention.length, heads]);
    feeds[KEY_KEEP_INPUT] = new this.ort.Tensor('float32', keep, [attention.length, ids.length, ids.length]);
    const wanted = [this.plan.logitsOutput, ...(instrument ? this.plan.probes.map((p) => p.tensor) : [])];
    const started = now();
    const out = await this.editSession.run(feeds, wanted);
    return this.readForward(out, ids, instrument, now() - started);
  }

  private async createEditSession(attentionTensors: string[]): Promise<Ort.InferenceSession> {
    const { bytes, file, external } = this.source;
    const edited = addGraphOutputs(addAttentionEdits(bytes, attentionTensors, this.plan.floatType, file), this.plan.probes.map((p) => p.tensor), this.plan.floatType);
    try {
      return await this.ort.InferenceSession.create(edited, {
        ...sessionOptions({ backend: this.backend, threads: this.threads }),
        ...(external.length > 0 ? { externalData: [...external] } : {}),
      });
    } catch (cause) {
      throw new Error(`${file}: the graph with the attention edits could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  /** The value vectors of every layer, when the graph shows them as [1, heads or kv-heads, n, headDim]. */
  private readValues(out: Ort.InferenceSession.OnnxValueMapType, n: number, heads: number, layers: number): AttentionResult['values'] {
    const tensors = this.probes('attention-values').map((p) => out[p.tensor]);
    const dims = tensors[0]?.dims ?? [];
    const valueHeads = dims[1] ?? 0;
    const headDim = dims[3] ?? 0;
    const fits = (t: Ort.Tensor | undefined): boolean =>
      t !== undefined && t.dims.length === 4 && t.dims[0] === 1 && t.dims[1] === valueHeads && t.dims[2] === n && t.dims[3] === headDim;
    if (tensors.length !== layers || !tensors.every(fits) || valueHeads === 0 || heads % valueHeads !== 0) return null;
    return { heads: valueHeads, headDim, data: tensors.map((t) => (t ? toFloat32(t).slice() : new Float32Array())) };
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
        if (tensor && dims.length === 4 && dims[2] === n && dims[3] === n) {
          heads = dims[1] ?? 0;
          layers.push(ownedFloat32(tensor, taken));
        }
      }
      if (layers.length > 0) {
        const kvHeads = Math.min(heads, headCounts(this.plan, { heads, kvHeads: this.config.kvHeads }).kvHeads);
        result.attention = { layers: layers.length, heads, kvHeads, data: layers, values: this.readValues(out, ids.length, heads, layers.length) };
      }
      else if (this.plan.fusedAttention.length > 0) {
        result.attentionNote = `This model computes attention inside fused ${this.plan.fusedAttention.join(', ')} operators, so its attention weights never exist as a tensor and cannot be shown.`;
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
    const session = this.cacheSession;
    if (!session) return (await this.forward(ids, false)).lastLogits;
    this.checkLength(ids.length);
    const best = this.cachedPrefix(ids);
    const headDim = this.config.hidden / this.config.heads;
    const pastLength = best?.ids.length ?? 0;
    const fresh = ids.slice(pastLength);
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new this.ort.Tensor('int64', BigInt64Array.from(fresh, (id) => BigInt(id)), [1, fresh.length]),
    };
    for (let layer = 0; layer < this.config.layers; layer++) {
      for (const [k, kind] of ['key', 'value'].entries()) {
        feeds[`past_key_values.${layer}.${kind}`] =
          best?.past[layer * 2 + k] ?? new this.ort.Tensor('float32', new Float32Array(0), [1, this.config.kvHeads, 0, headDim]);
      }
    }
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(feeds);
    } catch (cause) {
      // A backend that cannot run the cache graph (zero-length past tensors, say): recompute from now on.
      this.cacheNote = `the key/value cache failed on ${this.backend} (${cause instanceof Error ? cause.message : String(cause)}); generation recomputes the sequence`;
      this.cacheSession = null;
      for (const entry of this.cache) for (const t of entry.past) t.dispose();
      this.cache = [];
      void session.release();
      return (await this.forward(ids, false)).lastLogits;
    }
    const last = lastPositionLogits(out['logits'], fresh.length, 1)[0] ?? new Float32Array();
    out['logits']?.dispose();
    const past = Array.from({ length: this.config.layers }, (_, layer) => [out[`present.${layer}.key`], out[`present.${layer}.value`]]).flat();
    if (past.every((t) => t !== undefined)) this.remember(ids, past.filter((t) => t !== undefined));
    return last;
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
    const session = this.cacheSession;
    const n = rows[0]?.length ?? 0;
    if (!session || rows.length < 2 || !this.isBatchable || rows.some((r) => r.length !== n)) return this.forwardBatch(rows);
    this.checkLength(n);
    const prefixes = rows.map((ids) => this.cachedPrefix(ids));
    const pastLength = Math.min(...prefixes.map((p) => p?.ids.length ?? 0));
    const started = now();
    const batch = rows.length;
    const headDim = this.config.hidden / this.config.heads;
    const kv = this.config.kvHeads;
    const per = kv * pastLength * headDim;
    const fresh = rows.map((ids) => ids.slice(pastLength));
    const width = n - pastLength;
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new this.ort.Tensor('int64', BigInt64Array.from(fresh.flat(), (id) => BigInt(id)), [batch, width]),
    };
    for (let layer = 0; layer < this.config.layers; layer++) {
      for (const [k, kind] of ['key', 'value'].entries()) {
        const stacked = new Float32Array(batch * per);
        if (pastLength > 0) {
          prefixes.forEach((p, r) => {
            const data = p?.past[layer * 2 + k]?.data;
            const own = p?.ids.length ?? 0;
            if (!(data instanceof Float32Array)) return;
            // Each head's first `pastLength` positions of this row's cache ([1, kv, own, headDim]).
            for (let h = 0; h < kv; h++) stacked.set(data.subarray(h * own * headDim, (h * own + pastLength) * headDim), r * per + h * pastLength * headDim);
          });
        }
        feeds[`past_key_values.${layer}.${kind}`] = new this.ort.Tensor('float32', stacked, [batch, kv, pastLength, headDim]);
      }
    }
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(feeds);
    } catch {
      return this.forwardBatch(rows);
    }
    const lastLogits = lastPositionLogits(out['logits'], width, batch);
    out['logits']?.dispose();
    const presents = Array.from({ length: this.config.layers }, (_, layer) => [out[`present.${layer}.key`], out[`present.${layer}.value`]]).flat();
    if (presents.every((t) => t?.data instanceof Float32Array)) {
      const length = pastLength + width;
      const size = kv * length * headDim;
      rows.forEach((ids, r) => {
        const past = presents.map((t) => new this.ort.Tensor('float32', (t?.data as Float32Array).slice(r * size, (r + 1) * size), [1, kv, length, headDim]));
        this.remember(ids, past);
      });
    }
    for (const t of presents) t?.dispose();
    return { lastLogits, forwardMs: now() - started };
  }

  async release(): Promise<void> {
    await this.editSession?.release();
    this.editSession = null;
    for (const entry of this.cache) for (const t of entry.past) t.dispose();
    this.cache = [];
    await this.cacheSession?.release();
    await this.session.release();
  }
}
