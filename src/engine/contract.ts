import type { ModelConfig } from '../common/model-config';
import type { TokenPiece, TokenizerInfo } from './tokenizer';

/**
 * The engine contract: what every engine's loaded model gives the cells that do not look inside it
 * (Predict, Sample, Generate, Compare, beam search). The ONNX engine (`OnnxModel`, session.ts) is one;
 * GGUF and served models implement the same, each saying through `capabilities` what it can show, so a
 * cell that needs more says so in words instead of failing.
 */

/** Which engine computed a model's numbers; `--json` carries it as `source`. */
export type ModelSource = 'onnx' | 'gguf' | 'remote';

/** What an engine can show of a model, beyond the next-token distribution every engine gives. */
export const CAPABILITY_NAMES = ['attention', 'embeddings', 'residual', 'logitLens', 'interventions', 'fullVocabulary', 'kvCache'] as const;
export type Capability = (typeof CAPABILITY_NAMES)[number];
export type Capabilities = Readonly<Record<Capability, boolean>>;

/**
 * What the cells need of a model's tokenizer: the ONNX engine's `ModelTokenizer` (tokenizer.json) is
 * one, a GGUF model's is llama.cpp's own (the vocabulary and merges inside the file).
 */
export interface EngineTokenizer {
  readonly info: TokenizerInfo;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  piece(id: number): TokenPiece;
}

export interface EngineModel {
  readonly source: ModelSource;
  readonly id: string;
  readonly config: ModelConfig;
  readonly tokenizer: EngineTokenizer;
  /** Where it runs (wasm, webgpu, native for ONNX) and on how many threads. */
  readonly backend: string;
  readonly threads: number;
  readonly capabilities: Capabilities;
  /** Whether generation continues from a key/value cache; when not, `cacheNote` says why. */
  readonly hasCache: boolean;
  readonly cacheNote: string | null;
  /** Whether several sequences can run in one pass (`forwardBatch` with more than one row). */
  readonly isBatchable: boolean;
  /** Why each capability the engine lacks is missing, in words for the cells (GGUF: "llama.cpp's public API does not expose attention weights"). */
  readonly capabilityNotes?: Partial<Record<Capability, string>>;
  /**
   * The token embedding rows of `ids`, row-major [position][dim], where the engine can read them
   * without running the model (a GGUF file's token_embd table); null with `embeddingsNote` when not.
   */
  tokenEmbeddings?(ids: readonly number[]): Promise<{ dim: number; rows: Float32Array } | null>;
  /** Next-token logits for a sequence, on the cache where there is one. */
  nextLogits(ids: readonly number[]): Promise<Float32Array>;
  /** Every position's next-token logits, row-major [position][vocab] (the prompt's surprisal). */
  positionLogits(ids: readonly number[]): Promise<{ logits: Float32Array; vocab: number; forwardMs: number }>;
  /** Next-token logits for sequences of equal length, recomputed from the start. */
  forwardBatch(rows: readonly (readonly number[])[]): Promise<{ lastLogits: Float32Array[]; forwardMs: number }>;
  /** Next-token logits for sequences of equal length, each continuing its own cache where there is one. */
  nextLogitsBatch(rows: readonly (readonly number[])[]): Promise<{ lastLogits: Float32Array[]; forwardMs: number }>;
  release(): Promise<void>;
}
