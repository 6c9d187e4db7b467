import type { Capabilities, ModelSource } from './contract';
import type { AttentionResult, ForwardResult } from './session';
import type { TokenPiece } from './tokenizer';
import type { Sampling } from '../common/sampling-strategy';
import type { GenerationState } from './generate';
import type { StepDetail } from './compare-step';
import type { InterventionInput } from './intervention';
import type { PositionsView } from './embedding-tables';

/** What the page asks for: auto picks the native engine in the desktop app, else WebGPU when an adapter exists, else WebAssembly (renderer/engine/engine-client.ts routeFor). */
export type BackendChoice = 'auto' | 'wasm' | 'webgpu' | 'native';

/** Absolute URLs of a model's files; the worker fetches them itself so bytes never cross the UI thread. */
export interface ModelUrls {
  id: string;
  /** A GGUF model runs on llama.cpp in the native engine only; the page's worker refuses it in words. Absent: ONNX. */
  format?: 'onnx' | 'gguf';
  config: string;
  tokenizer: string;
  tokenizerConfig: string | null;
  onnx: string;
  onnxWithPast: string | null;
  /** The two graphs' paths inside the model folder (onnx/model_fp16.onnx, ...), for messages. */
  onnxFile: string;
  onnxWithPastFile: string | null;
  /** External data files of the graph: the name the graph refers to and the file's URL. */
  onnxData: { path: string; url: string }[];
}

export interface LoadResult {
  modelId: string;
  /** Which engine runs the model, and what it can show of it (the engine contract, contract.ts). */
  source: ModelSource;
  capabilities: Capabilities;
  backend: 'wasm' | 'webgpu' | 'native';
  threads: number;
  loadMs: number;
  /** Why the preferred backend was not used, when it was not. */
  backendNote: string | null;
  /** Whether generation runs on the model's key/value-cache graph, and why not when it has one. */
  kvCache: boolean;
  kvCacheNote: string | null;
  /** Why a model of two files (model.onnx and decoder_with_past.onnx) holds its weights twice, a session per file; null where they are held once. */
  weightsNote: string | null;
  /** The file that runs (`<id>/onnx/model_fp16.onnx`, a GGUF file's name, ...) and its weights' format (fp16, int8 dynamic, q4 block 32, Q8_0, ...). */
  file: string;
  precision: string;
  layers: number;
  heads: number;
  hidden: number;
  context: number;
  vocab: number;
  /** What the engine reads out of this model, as hook point names (src/common/hook-names.ts): `hook_embed`, `blocks.0.attn.hook_pattern`, ..., `unembed.hook_out`. */
  hooks: string[];
}

export interface TokenizeResult {
  pieces: TokenPiece[];
  /** Tokens dropped from the left to fit the context. */
  dropped: number;
  context: number;
}

/** Attention weights per layer, [head][query][key]; with the value vectors they multiply when the graph shows them. */
export type AttentionPayload = AttentionResult;

/**
 * One forward pass as the page receives it: the engine's result itself (one shape, no renaming), with
 * what the engine adds next to the tokenizer: the labels of the likely next tokens, and whether the
 * logit lens can be shown (it is computed when asked for: a `lens` request).
 */
export type ForwardPayload = ForwardResult & {
  /** Why the logit lens cannot be shown for this pass; null: it can. */
  lensNote: string | null;
  /** Pieces of the most likely next tokens (by logit), so the UI can label them without the tokenizer. */
  topPieces: TokenPiece[];
};

/** The logit lens of a prompt: [depth][position] top-1 token and probability; depth 0 is the embeddings. */
export interface LensResult {
  lens: { id: number; prob: number; piece: TokenPiece }[][];
}

/** The forward pass with heads switched off or tokens removed from attention: what Predict compares. */
export interface InterveneResult {
  lastLogits: Float32Array;
  /** The edited attention, when the graph exposes it. */
  attention: AttentionPayload | null;
  forwardMs: number;
  topPieces: TokenPiece[];
}

export interface GenerateRequest {
  state: GenerationState;
  /** A preset or the full sampler settings (the Sample cell sends its resolved settings). */
  sampling: Sampling;
  /** How many more tokens to generate from `state`. */
  count: number;
  /** Stops once the generated text contains it. */
  stop?: string;
}

/** One step of one Compare column. */
export interface CompareStepRequest {
  state: GenerationState;
  sampling: Sampling;
  stop?: string;
}

export interface CompareStepResult {
  state: GenerationState;
  /** Null when no token was chosen (the context was full). */
  detail: StepDetail | null;
}

/** The nearest vocabulary neighbours of one token by cosine similarity of token embedding rows. */
export interface NeighboursResult {
  id: number;
  piece: TokenPiece;
  /** Rows searched: the whole token embedding table. */
  vocab: number;
  /** Most similar first; the token itself (similarity 1) first. */
  neighbours: { id: number; piece: TokenPiece; similarity: number }[];
}

export type PositionsResult = PositionsView;

/** Every prompt token's probability, bits and rank (in the whole vocabulary), and the K the model expected there. */
export interface SurprisalResult {
  rows: {
    position: number;
    id: number;
    text: string;
    prob: number | null;
    logprob: number | null;
    bits: number | null;
    rank: number | null;
    expected: { id: number; token: string; prob: number }[] | null;
  }[];
  forwardMs: number;
}

export type WorkerRequest =
  | { runId: number; type: 'load'; model: ModelUrls; backend: BackendChoice; threads: number }
  | { runId: number; type: 'tokenize'; text: string }
  | { runId: number; type: 'forward'; ids: number[] }
  | { runId: number; type: 'lens'; ids: number[] }
  | { runId: number; type: 'intervene'; ids: number[]; edit: InterventionInput }
  | ({ runId: number; type: 'generate' } & GenerateRequest)
  | { runId: number; type: 'compare-steps'; items: CompareStepRequest[] }
  /** A token by id, or by text that must be exactly one token. */
  | { runId: number; type: 'embedding-neighbours'; id?: number; text?: string; k: number }
  | { runId: number; type: 'positions'; count: number }
  | { runId: number; type: 'surprisal'; ids: number[]; k: number }
  | { runId: number; type: 'cancel'; target: number };

export interface WorkerResults {
  load: LoadResult;
  tokenize: TokenizeResult;
  forward: ForwardPayload;
  lens: LensResult;
  intervene: InterveneResult;
  generate: GenerationState;
  'compare-steps': CompareStepResult[];
  'embedding-neighbours': NeighboursResult;
  positions: PositionsResult;
  surprisal: SurprisalResult;
}

/**
 * Sent after a load's answer when the model loaded is not the one answered: the load's deferred check
 * found that its one session cannot run whole prompts, so it was loaded again with a session per file
 * (`result`), or that load failed too (`result` null, `message` says why). `runId` is the load's.
 */
export interface ModelChanged {
  runId: number;
  type: 'model-changed';
  modelId: string;
  result: LoadResult | null;
  message: string | null;
}

export type WorkerResponse =
  | ModelChanged
  | { runId: number; type: 'result'; result: unknown }
  | { runId: number; type: 'progress'; progress: GenerationState }
  | { runId: number; type: 'error'; message: string };
