import { errorMessage } from '../common/error-message';
import { stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename } from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type { ModelConfig } from '../common/model-config';
import type { Capabilities, Capability, EngineModel, EngineTokenizer } from '../engine/contract';
import { GGUF_VIEW_REASONS } from '../common/gguf-notes';
import { readEmbeddingRows } from './gguf-embeddings';
import { embeddingProblem, readGgufFacts, type GgufFacts } from './gguf-metadata';
import { partialByteLabel, visibleText, type TokenPiece, type TokenizerInfo } from '../engine/tokenizer';

/** Why the views that look inside a model are refused for a GGUF model, in words for the cells and `ntl`. */
export const GGUF_INSIDE_NOTE = 'a GGUF model through llama.cpp exposes no attention weights, residual stream or per-layer values (llama.cpp\'s public API gives tokens and the next-token distribution only)';

/** True when a `--model` value names a GGUF file rather than a model id or folder. */
export const isGgufPath = (model: string): boolean => model.toLowerCase().endsWith('.gguf');

/**
 * The logit we give a token llama.cpp reports with probability 0 (float32 underflow): below the log of
 * the smallest float32, so it stays last, but finite, so the sampler chain treats it as alive, as it
 * would the same token's tiny logit from an ONNX model.
 */
const ZERO_PROBABILITY_LOGIT = -104;

let llamaPromise: Promise<Llama> | null = null;

/**
 * llama.cpp's CPU build, loaded once per process from node-llama-cpp's prebuilt binaries (never built
 * here). node-llama-cpp is imported here, not at the top: its own imports take about 0.3 s, which
 * every `ntl` command and the servers would pay without ever running a GGUF model.
 */
function loadLlama(): Promise<Llama> {
  llamaPromise ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) => getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false }));
  return llamaPromise;
}

/** llama.cpp's own tokenizer: the vocabulary, merges and pre-tokenizer named inside the GGUF file. */
class GgufTokenizer implements EngineTokenizer {
  readonly info: TokenizerInfo;
  private readonly pieces = new Map<number, TokenPiece>();

  /** The vocabulary as the file spells it, where that spelling is GPT-2's byte-level one. */
  private readonly byteLevelTokens: readonly string[] | null;

  constructor(private readonly model: LlamaModel, vocabSize: number) {
    const ggml = model.fileInfo.metadata.tokenizer?.ggml;
    const tokens: unknown = ggml?.tokens;
    this.byteLevelTokens = ggml?.model === 'gpt2' && Array.isArray(tokens) && tokens.every((t): t is string => typeof t === 'string') ? tokens : null;
    this.info = { vocabSize, isByteLevel: this.byteLevelTokens !== null, eosId: model.tokens.eos };
  }

  /** Without special tokens: "<|endoftext|>" in a prompt is text, as a prompt typed by a person is. */
  encode(text: string): number[] {
    return this.model.tokenize(text, false).map(Number);
  }

  decode(ids: readonly number[]): string {
    return this.model.detokenize(ids.map(asToken), true);
  }

  piece(id: number): TokenPiece {
    let piece = this.pieces.get(id);
    if (!piece) {
      const text = this.model.detokenize([asToken(id)], true);
      const raw = this.byteLevelTokens?.[id];
      const special = this.model.isSpecialToken(asToken(id));
      // A lone byte of a multi-byte character decodes to "�"; its label shows the byte, as ONNX models' pieces do.
      piece = { id, text, display: special ? text : ((raw !== undefined ? partialByteLabel(raw) : null) ?? visibleText(text)) };
      this.pieces.set(id, piece);
    }
    return piece;
  }
}

// node-llama-cpp's Token is a branded number; ids come from our cells as plain numbers.
const asToken = (id: number): Token => id as Token;

export interface GgufLoadOptions {
  threads: number;
  /** Shown as the model's id; the file name when absent. */
  id?: string;
  /** Tokens the context holds: the model's trained context, at most 2048 unless asked (a 128k context's cache would take gigabytes). */
  contextSize?: number;
  /**
   * llama.cpp's key/value cache: F32 (the default here) with flash attention off keeps keys,
   * values and attention weights in float32, so an F32 file gives the ONNX float32 numbers up to
   * llama.cpp's float16 GELU table; F16 with flash attention (llama.cpp's own default, what LM Studio
   * and Ollama users get) halves the cache and moves probabilities by about 1e-4 more.
   */
  kvCache?: 'F32' | 'F16';
}

const DEFAULT_CONTEXT = 2048;

/**
 * A GGUF model on llama.cpp (node-llama-cpp 3.21.1, CPU): llama.cpp's tokenizer, the full-vocabulary
 * next-token distribution from the low-level `controlledEvaluate`, and one context sequence whose
 * key/value cache continues from the longest common prefix of what it holds and what is asked.
 *
 * llama.cpp gives probabilities, not logits, so `nextLogits` returns log p: a softmax of log p at
 * temperature T is p^(1/T) renormalised, exactly what the same softmax gives from the raw logits
 * (they differ from log p by one constant), so our sampler chain's temperature, top-k, top-p, min-p,
 * penalties and the rest mean the same as on an ONNX model. The logit numbers themselves are shifted
 * (log p, never above 0).
 */
export class GgufModel implements EngineModel {
  readonly source = 'gguf' as const;
  readonly backend = 'llama.cpp (cpu)';
  readonly capabilities: Capabilities;
  readonly capabilityNotes: Partial<Record<Capability, string>>;
  readonly hasCache = true;
  readonly cacheNote = null;
  readonly isBatchable = false;
  /** Tokens llama.cpp has evaluated since loading: what shows that generation continues the cache. */
  evaluatedTokens = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly id: string,
    readonly path: string,
    readonly config: ModelConfig,
    readonly tokenizer: GgufTokenizer,
    readonly threads: number,
    readonly loadMs: number,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    /** Where the token embedding table is in the file, and its type. */
    private readonly embeddingTable: GgufFacts['tokenEmbedding'],
  ) {
    const embeddingsNote = embeddingProblem(embeddingTable);
    this.capabilities = { attention: false, embeddings: embeddingsNote === null, residual: false, logitLens: false, interventions: false, fullVocabulary: true, kvCache: true };
    this.capabilityNotes = { ...GGUF_VIEW_REASONS, ...(embeddingsNote === null ? {} : { embeddings: embeddingsNote }) };
  }

  /** Token embedding rows read from the file's token_embd table (F32, F16, BF16 or Q8_0, dequantized); null for another type. */
  async tokenEmbeddings(ids: readonly number[]): Promise<{ dim: number; rows: Float32Array } | null> {
    const table = this.embeddingTable;
    if (!table || !this.capabilities.embeddings) return null;
    return { dim: table.cols, rows: await readEmbeddingRows(this.path, table, ids) };
  }

  static async load(path: string, options: GgufLoadOptions): Promise<GgufModel> {
    const started = performance.now();
    const size = await stat(path).then(
      (s) => s.size,
      () => {
        throw new Error(`${path}: no such GGUF file`);
      },
    );
    if (size > totalmem()) throw new Error(`${path}: the file (${(size / 2 ** 30).toFixed(1)} GiB) is larger than this machine's memory (${(totalmem() / 2 ** 30).toFixed(1)} GiB)`);
    const llama = await loadLlama();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    } catch (cause) {
      // node-llama-cpp checks the header and metadata ("Invalid GGUF magic"); llama.cpp's own reason
      // (a tensor past the end of the file, an unknown architecture or type) is on stderr before it.
      const reason = errorMessage(cause);
      throw new Error(`${path}: llama.cpp could not load it (${reason}); the file may be truncated or corrupted, or its architecture or quantization unknown to the bundled llama.cpp`);
    }
    try {
      const facts = await readGgufFacts(path);
      const meta = model.fileInfo.metadata;
      const architecture = meta.general.architecture;
      const arch: Record<string, unknown> = (meta as unknown as Record<string, Record<string, unknown>>)[architecture] ?? {};
      const attention = (arch['attention'] ?? {}) as Record<string, unknown>;
      const num = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);
      const tokens = meta.tokenizer?.ggml?.tokens;
      const vocabSize = Array.isArray(tokens) ? tokens.length : [...model.iterateAllTokens()].length;
      const context = Math.min(model.trainContextSize, options.contextSize ?? DEFAULT_CONTEXT);
      const heads = num(attention['head_count'], 1);
      const hidden = model.embeddingVectorSize;
      const config: ModelConfig = {
        modelType: architecture,
        vocabSize,
        layers: num(arch['block_count'], 0),
        heads,
        kvHeads: num(attention['head_count_kv'], heads),
        hidden,
        headDim: num(attention['key_length'], Math.floor(hidden / heads)),
        context,
        eosTokenId: model.tokens.eos,
        ropeTheta: typeof (arch['rope'] as Record<string, unknown> | undefined)?.['freq_base'] === 'number' ? ((arch['rope'] as Record<string, number>)['freq_base'] ?? null) : null,
      };
      const kvCache = options.kvCache ?? 'F32';
      const llamaContext = await model.createContext({
        contextSize: context,
        sequences: 1,
        threads: options.threads,
        batchSize: Math.min(context, 512),
        flashAttention: kvCache === 'F16',
        experimentalKvCacheKeyType: kvCache,
        experimentalKvCacheValueType: kvCache,
      });
      const sequence = llamaContext.getSequence();
      return new GgufModel(options.id ?? basename(path), path, config, new GgufTokenizer(model, vocabSize), options.threads, performance.now() - started, model, llamaContext, sequence, facts.tokenEmbedding);
    } catch (cause) {
      await model.dispose();
      throw cause;
    }
  }

  /**
   * Next-token logits (log p) after `ids`: the sequence keeps what it holds up to the first token that
   * differs, so a generation step evaluates one new token and a new prompt only what changed.
   */
  nextLogits(ids: readonly number[]): Promise<Float32Array> {
    const run = this.queue.then(() => this.evaluate(ids));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async evaluate(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0) throw new Error('nothing to predict from: the sequence is empty');
    if (ids.length > this.config.context) throw new Error(`the sequence has ${ids.length} tokens, more than the model's context of ${this.config.context}`);
    const held = this.sequence.contextTokens;
    let common = 0;
    while (common < held.length && common < ids.length && held[common] === ids[common]) common++;
    // The last token is evaluated again when everything is held: its distribution is not kept.
    if (common === ids.length) common--;
    if (common === 0) await this.sequence.clearHistory();
    else if (common < held.length) await this.sequence.eraseContextTokenRanges([{ start: common, end: held.length }]);
    const fresh = ids.slice(common).map(asToken);
    const last = fresh.length - 1;
    const out = await this.sequence.controlledEvaluate(fresh.map((t, i) => (i === last ? [t, { generateNext: { probabilities: true } }] : t)));
    this.evaluatedTokens += fresh.length;
    const probabilities = out[last]?.next.probabilities;
    if (!probabilities) throw new Error(`${this.id}: llama.cpp returned no next-token distribution`);
    const logits = new Float32Array(this.config.vocabSize).fill(ZERO_PROBABILITY_LOGIT);
    for (const [token, p] of probabilities) if (token < logits.length && p > 0) logits[token] = Math.log(p);
    return logits;
  }

  /**
   * log p of the next token after every prefix of `ids`, row-major [position][vocab] (row i predicts
   * token i + 1): the prompt evaluated afresh with llama.cpp's distribution kept at every position.
   * What `serve-openai` answers `echo` with; the same rows as `nextLogits` of each prefix.
   */
  positionLogits(ids: readonly number[]): Promise<{ logits: Float32Array; vocab: number; forwardMs: number }> {
    const run = this.queue.then(async () => {
      if (ids.length === 0) throw new Error('nothing to predict from: the sequence is empty');
      if (ids.length > this.config.context) throw new Error(`the sequence has ${ids.length} tokens, more than the model's context of ${this.config.context}`);
      const started = performance.now();
      await this.sequence.clearHistory();
      const out = await this.sequence.controlledEvaluate(ids.map((id) => [asToken(id), { generateNext: { probabilities: true } }]));
      this.evaluatedTokens += ids.length;
      const vocab = this.config.vocabSize;
      const logits = new Float32Array(ids.length * vocab).fill(ZERO_PROBABILITY_LOGIT);
      ids.forEach((_, position) => {
        const probabilities = out[position]?.next.probabilities;
        if (!probabilities) throw new Error(`${this.id}: llama.cpp returned no distribution at position ${position}`);
        for (const [token, p] of probabilities) if (token < vocab && p > 0) logits[position * vocab + token] = Math.log(p);
      });
      return { logits, vocab, forwardMs: performance.now() - started };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One sequence at a time, each continuing the one cache (a GGUF model is not batched here). */
  async forwardBatch(rows: readonly (readonly number[])[]): Promise<{ lastLogits: Float32Array[]; forwardMs: number }> {
    const started = performance.now();
    const lastLogits: Float32Array[] = [];
    for (const row of rows) lastLogits.push(await this.nextLogits(row));
    return { lastLogits, forwardMs: performance.now() - started };
  }

  nextLogitsBatch(rows: readonly (readonly number[])[]): Promise<{ lastLogits: Float32Array[]; forwardMs: number }> {
    return this.forwardBatch(rows);
  }

  async release(): Promise<void> {
    await this.queue;
    this.sequence.dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}
