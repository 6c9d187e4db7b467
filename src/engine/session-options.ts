import type * as Ort from 'onnxruntime-web';
import type { ByteSource } from './byte-source';
import type { ModelTokenizer } from './tokenizer';

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
  /** The tokenizer already built from `tokenizer` and `tokenizerConfig` (by a check just before), used instead of building it again. */
  tokenizerBuilt?: ModelTokenizer;
  onnx: Uint8Array;
  /** The ONNX file's path inside the model folder, for messages (default `onnx/model.onnx`). */
  onnxFile?: string;
  /** Optional key/value-cache graph (`decoder_with_past.onnx` or `decoder_with_past_model.onnx`), used to generate faster. */
  onnxWithPast?: Uint8Array | null;
  /** That file's path inside the model folder, for messages. */
  onnxWithPastFile?: string | null;
  /**
   * Reads the ONNX file again (Node hosts, from disk): given, the engine does not keep the bytes after
   * its sessions are created, and reads them again for an edited graph or the embedding tables.
   */
  reread?: () => Uint8Array;
  /** `reread` for the with-past file, which a model of two files runs alone (`session-load.ts`). */
  rereadWithPast?: () => Uint8Array;
  /** External data files of the graph (`model.onnx_data`), by the file name the graph refers to. */
  externalData?: { path: string; data: Uint8Array }[];
  /**
   * The model folder on disk (Node hosts). Given, native sessions have ONNX Runtime read the weights
   * from the file itself (`weight-refs.ts`) instead of parsing a copy of the bytes handed to it.
   */
  folder?: string;
  /**
   * The ONNX files by offset where the host read `onnx` / `onnxWithPast` without their weights
   * (Node hosts, native): the graphs refer to the weights in their own files (`weight-refs.ts`).
   */
  onnxSource?: ByteSource;
  onnxWithPastSource?: ByteSource;
}

export interface LoadOptions {
  backend: BackendName;
  threads: number;
  /** Whether to generate on the key/value cache where the model has one (default true; `ntl --no-cache` turns it off). */
  cache?: boolean;
  /**
   * Whether a model of two files (model.onnx and decoder_with_past.onnx) runs on its with-past graph
   * alone, holding its weights once (default true); false opens a session per file, as before (the
   * reference the tests and the bench compare with).
   */
  shareWeights?: boolean;
  /** Why `shareWeights` is false, said where the model's notes say why its weights are held twice. */
  sharedRefusal?: string;
  /**
   * Whether the with-past graph's pass on an empty past, which shows it can run whole prompts, is
   * left to `OnnxModel.checkDeferred` (default false: the load runs it). The page's engine answers the
   * load first and runs that pass as the warm-up, while the user reaches for Run all (issue 18).
   */
  checkLater?: boolean;
}

/**
 * Session options for a backend. Every session of a model (instrumented, cache, edited) gets the same
 * ones, so the backends differ only in the execution provider and how threads are set: wasm reads
 * `env.wasm.numThreads` (set in `load`), native takes them per session. `folder` is where a native
 * session finds the graph's external files (the model file itself, for weights referred to there).
 */
export function sessionOptions(options: LoadOptions, folder: string | null = null): Ort.InferenceSession.SessionOptions {
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
      extra: { session: { disable_quant_qdq: '1', ...(folder === null ? {} : { model_external_initializers_file_folder_path: folder }) } },
    };
  }
  return { ...common, executionProviders: [options.backend] };
}
