import { errorMessage } from '../common/error-message';
import type * as Ort from 'onnxruntime-web';
import { parseModelConfig, type ModelConfig } from '../common/model-config';
import { LOGIT_ROWS_INPUT, withHead } from './onnx-edit';
import { headCounts, type GraphPlan, type Probe } from './onnx-graph';
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
import { addFusedEdits } from './fused-attention';
import { GraphSource } from './graph-source';
import { renameTables } from './graph-pair';
import { ONNX_TYPE, tensorToFloat32 } from './tensor-data';
import { feedsFor, metadataTypes, type PastSlot } from './kv-cache';
import { CacheRunner } from './cache-runner';
import { lastPositionLogits, probesOf, readForward, type ForwardResult } from './forward-result';
import { sessionOptions, type BackendName, type LoadOptions, type ModelFiles, type OrtModule } from './session-options';
import { openModel } from './session-load';
import { ModelTokenizer } from './tokenizer';
import type { Capabilities, EngineModel } from './contract';
import { supportedViews } from './supported-views';

export type { BackendName, LoadOptions, ModelFiles, OrtModule } from './session-options';
export type { AttentionResult, EmbeddingResult, ForwardResult } from './forward-result';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

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
    /** Generation on the key/value cache, when the model has a cache graph. */
    private readonly kv: CacheRunner,
  ) {
    this.runPlan = plan;
  }
  /** The graph with attention edits (interventions), created on first use. */
  private editSession: Ort.InferenceSession | null = null;
  /** With recomputed fused attention: the graph as it is, for passes that read only logits (created on first use). */
  private plainSession: Ort.InferenceSession | null = null;
  /** Whether passes that read only logits run on a session of the graph as it is (recomputed fused attention). */
  private hasPlain = false;
  /** The prepared graph (kept, or read again), to build the edited graph from and read the embedding tables on first use. */
  private graphSource = new GraphSource('', [], null, null);
  private precisionText = 'unknown';
  private rotary: PositionsView | null = null;
  private tables: EmbeddingTables | null = null;
  private neighbourIndex: NeighbourIndex | null = null;
  /** The shape of the last attention probabilities read (4-D, or 5-D for grouped-query graphs that keep the groups). */
  private attentionDims: number[] | null = null;
  /** The tensor entering the final norm, where the graph's head runs on chosen positions (`addLogitRows`); null where it runs on all. */
  private logitStream: string | null = null;
  /**
   * The plan of the graph the session runs, whose tensors are fetched: `plan` itself, or for a model
   * of two files run on its with-past graph, that graph's (`plan` names the probes as model.onnx does).
   */
  private runPlan: GraphPlan;
  /** Why a model of two files holds its weights in two sessions, when it does. */
  private twoSessionNote: string | null = null;
  /** The empty-past pass a load with `checkLater` left to `checkDeferred`, or null. */
  private emptyPastCheck: (() => Promise<void>) | null = null;
  /** Embedding table names of the run graph that model.onnx names otherwise. */
  private tableRenames = new Map<string, string>();
  /** The past inputs of the instrumented graph (a graph with Optimum's cache inputs), fed empty for a whole-sequence pass. */
  private mainSlots: PastSlot[] = [];
  /** Where native sessions read the weights the graph refers to in its file (`weight-refs.ts`), or null. */
  private folder: string | null = null;

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

  /** Why generation does not run on a key/value cache, when it does not. */
  get cacheNote(): string | null {
    return this.kv.note;
  }

  /** Whether generation runs on the key/value cache rather than recomputing the sequence. */
  get hasCache(): boolean {
    return this.kv.graph !== null;
  }

  /** The weights' format as people name it (fp16, int8 dynamic, q4 block 32, float32), read from the graph. */
  get precision(): string {
    return this.precisionText;
  }

  /**
   * Why a model that comes as two files (model.onnx and decoder_with_past.onnx) runs each on a session
   * of its own, holding the weights twice; null where the weights are held once.
   */
  get sessionNote(): string | null {
    return this.twoSessionNote;
  }

  /**
   * Runs the pass a load with `checkLater` left owed: the with-past graph on an empty past, which
   * shows the one session can run whole prompts. Returns why it cannot (the caller loads the model
   * again, a session per file), or null: it can, or there was nothing to check.
   */
  async checkDeferred(): Promise<string | null> {
    const check = this.emptyPastCheck;
    this.emptyPastCheck = null;
    if (!check) return null;
    try {
      await check();
      return null;
    } catch (cause) {
      return errorMessage(cause);
    }
  }

  /** The ONNX file the instrumented session runs, inside its folder (a model of two files runs its with-past file). */
  get file(): string {
    return this.graphSource.file;
  }

  /** Whether generation runs on the instrumented session itself, so that the weights are held once. */
  get cacheShared(): boolean {
    return this.kv.graph?.shared ?? false;
  }

  /** The file the key/value cache runs on (the model's own graph, its merged decoder, or a decoder_with_past file), when used. */
  get cacheFile(): string | null {
    return this.kv.graph?.file ?? null;
  }

  /** The element type ONNX Runtime computes for a graph output the engine reads (float32, float16, ...). */
  outputType(tensor: string): string | null {
    return metadataTypes(this.session.outputMetadata).get(tensor)?.type ?? null;
  }

  static async load(ort: OrtModule, files: ModelFiles, options: LoadOptions): Promise<OnnxModel> {
    const started = now();
    const config = parseModelConfig(files.config, `${files.id}/config.json`);
    const tokenizer = files.tokenizerBuilt ?? new ModelTokenizer(files.tokenizer, files.tokenizerConfig);
    if (tokenizer.info.vocabSize > config.vocabSize) {
      throw new Error(
        `${files.id}/tokenizer.json: vocabulary of ${tokenizer.info.vocabSize} tokens is larger than the model's ${config.vocabSize} logits (config.json "vocab_size")`,
      );
    }
    const opened = await openModel(ort, files, options, config, OnnxModel.plainSessionMaxBytes);
    const kv = new CacheRunner(ort, opened.cacheGraph, opened.cacheNote, options.backend);
    const model = new OnnxModel(files.id, config, tokenizer, opened.plan, options.backend, options.threads, now() - started, ort, opened.session, kv);
    model.runPlan = opened.runPlan;
    model.mainSlots = opened.mainSlots;
    model.logitStream = opened.stream;
    model.graphSource = opened.graphSource;
    model.folder = opened.folder;
    model.hasPlain = opened.hasPlain;
    model.precisionText = opened.precision;
    model.twoSessionNote = opened.sessionNote;
    model.tableRenames = opened.tableRenames;
    model.emptyPastCheck = opened.emptyPastCheck;
    return model;
  }

  /** The token embedding and learned positional tables, read from the graph's weights once and kept. */
  embeddingTables(): EmbeddingTables {
    if (!this.tables) {
      this.tables = renameTables(readEmbeddingTables(this.graphSource.get().graph), this.tableRenames);
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
    if (this.plan.positions === 'rotary') {
      this.rotary ??= rotaryPositions(this.graphSource.get().graph, this.config.hidden / this.config.heads, this.config.ropeTheta);
      return this.rotary;
    }
    return {
      kind: 'none',
      reason: 'no learned positional table and no rotary position encoding were found in the graph, so this model has no positional encoding to show',
    };
  }

  /** The probes of one role, in graph order. */
  probes(role: Probe['role']): Probe[] {
    return probesOf(this.plan, role);
  }

  /** Feeds for `rows` sequences of equal length, as one [rows, length] batch, from the start (an empty past where the graph takes one). */
  private feeds(rows: readonly (readonly number[])[], allRows = false): Record<string, Ort.Tensor> {
    const inputs = [...this.plan.inputs.map((i) => i.name), ...(this.logitStream ? [LOGIT_ROWS_INPUT] : [])];
    return feedsFor(this.ort, inputs, this.mainSlots, rows, [], 0, allRows);
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
      return { lastLogits: lastPositionLogits(out[this.plan.logitsOutput], rows.length), forwardMs };
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
    const out = await (await this.logitsSession()).run(this.feeds([ids], true), [this.plan.logitsOutput]);
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
    const session = instrument ? this.session : await this.logitsSession();
    const read = [this.runPlan.logitsOutput, ...(instrument ? this.runPlan.probes.map((p) => p.tensor) : [])];
    // On the session generation shares, the pass's presents are kept too: generating from this prompt next runs no pass for it.
    const presents = this.kv.graph?.shared && this.kv.graph.session === session ? this.kv.graph.slots.map((s) => s.output) : [];
    const started = now();
    const out = await session.run(this.feeds([ids]), [...new Set([...read, ...presents])]);
    const forwardMs = now() - started;
    // A present that is also a probe (a with-past graph's values are its present) is read, and disposed, by the result: the cache keeps a copy.
    const past = presents.flatMap((name) => {
      const t = out[name];
      if (!t) return [];
      return read.includes(name) ? [new this.ort.Tensor(t.type as 'float32', (t.data as Float32Array).slice(), t.dims)] : [t];
    });
    const result = this.read(Object.fromEntries(read.flatMap((name) => (out[name] ? [[name, out[name]]] : []))), ids, instrument, forwardMs);
    if (past.length > 0 && past.length === presents.length) this.kv.keep(ids, past, result.lastLogits.slice());
    else for (const t of past) t.dispose();
    return result;
  }

  /**
   * The forward pass with an intervention: heads switched off and tokens removed from positions'
   * attention (renormalised), by a mask multiplied into the attention probabilities of an edited
   * copy of the graph (built on first use, then kept). Attention in the result is the edited one.
   */
  async forwardEdited(ids: readonly number[], edit: InterventionInput, instrument = true): Promise<ForwardResult> {
    this.checkLength(ids.length);
    const parsed = Intervention.parse(edit);
    const attention = probesOf(this.runPlan, 'attention').sort((a, b) => a.layer - b.layer);
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
    const wanted = [this.runPlan.logitsOutput, ...(instrument ? this.runPlan.probes.map((p) => p.tensor) : [])];
    const started = now();
    const out = await this.editSession.run(feeds, wanted);
    return this.read(out, ids, instrument, now() - started);
  }

  private async createEditSession(attentionTensors: string[], gateShape: number[]): Promise<Ort.InferenceSession> {
    const { file, external } = this.graphSource;
    const bytes = this.graphSource.get().observed;
    const probsType = this.outputType(attentionTensors[0] ?? '') === 'float16' ? ONNX_TYPE.float16 : ONNX_TYPE.float;
    let withEdits = addAttentionEdits(bytes, attentionTensors, probsType, file, gateShape);
    // Fused operators: a switched-off head's slice of the output zeroed, a layer with a token taken out decomposed.
    if (this.plan.fusedRecompute?.ok) withEdits = addFusedEdits(withEdits, this.plan.fusedRecompute, this.plan.opset, file);
    const edited = withHead(withEdits, this.logitStream, this.runPlan.probes.map((p) => p.tensor), file);
    try {
      return await this.ort.InferenceSession.create(edited, {
        ...sessionOptions({ backend: this.backend, threads: this.threads }, this.graphSource.isKept ? this.folder : null),
        ...(external.length > 0 ? { externalData: [...external] } : {}),
      });
    } catch (cause) {
      throw new Error(`${file}: the graph with the attention edits could not be loaded: ${errorMessage(cause)}`);
    }
  }

  private read(out: Ort.InferenceSession.OnnxValueMapType, ids: readonly number[], instrument: boolean, forwardMs: number): ForwardResult {
    const { result, attentionDims } = readForward(this.runPlan, this.config, out, ids, instrument, forwardMs);
    if (attentionDims) this.attentionDims = attentionDims;
    return result;
  }

  /**
   * Logits at the last position of `ids`. With a cache graph, only the tokens after the longest
   * cached prefix run; without one, the whole sequence is recomputed.
   */
  async nextLogits(ids: readonly number[]): Promise<Float32Array> {
    if (this.kv.graph) {
      this.checkLength(ids.length);
      const last = await this.kv.next(ids);
      if (last) return last;
    }
    return (await this.forward(ids, false)).lastLogits;
  }

  /**
   * Next-token logits for several sequences of equal length in one pass of the cache graph, each
   * continuing its own cached prefix (`CacheRunner.nextBatch`). A model without a cache graph takes
   * `forwardBatch` (recomputing).
   */
  async nextLogitsBatch(rows: readonly (readonly number[])[]): Promise<{ lastLogits: Float32Array[]; forwardMs: number }> {
    const n = rows[0]?.length ?? 0;
    if (!this.kv.graph || rows.length < 2 || !this.isBatchable || rows.some((r) => r.length !== n)) return this.forwardBatch(rows);
    this.checkLength(n);
    const started = now();
    const lastLogits = await this.kv.nextBatch(rows);
    return lastLogits ? { lastLogits, forwardMs: now() - started } : this.forwardBatch(rows);
  }

  /**
   * The session for passes that read only logits. ONNX Runtime computes every graph output whatever
   * is fetched, so a model whose fused attention is recomputed generates on a session of the graph as
   * it is: the operators' own path, without the recomputation.
   */
  private async logitsSession(): Promise<Ort.InferenceSession> {
    if (!this.hasPlain) return this.session;
    const { external } = this.graphSource;
    this.plainSession ??= await this.ort.InferenceSession.create(withHead(this.graphSource.get().plain ?? new Uint8Array(), this.logitStream, [], this.graphSource.file), {
      ...sessionOptions({ backend: this.backend, threads: this.threads }, this.graphSource.isKept ? this.folder : null),
      ...(external.length > 0 ? { externalData: [...external] } : {}),
    });
    return this.plainSession;
  }

  async release(): Promise<void> {
    await this.plainSession?.release();
    this.plainSession = null;
    await this.editSession?.release();
    this.editSession = null;
    await this.kv.release();
    await this.session.release();
  }
}
