import { z } from 'zod';

export const ViewSupport = z.object({
  view: z.enum(['tokens', 'embeddings', 'attention', 'logits', 'logitLens', 'residual']),
  ok: z.boolean(),
  /** Why the view cannot be shown, or null. */
  reason: z.string().nullable(),
  /** Something worth knowing when it can (rotary positions, grouped-query attention), or null. */
  note: z.string().nullable(),
});
export type ViewSupport = z.infer<typeof ViewSupport>;

/** What a GGUF file's header says beyond the shape every model has (read with @huggingface/gguf). */
export const GgufDetails = z.object({
  /** The file's name (its folder stays with the main process). */
  file: z.string(),
  /** Where it was found: added by the user (registered by path and hash), or in LM Studio's or Ollama's models folder. */
  origin: z.enum(['registered', 'lmstudio', 'ollama']),
  version: z.number().int(),
  /** `general.file_type` as llama.cpp names it (Q8_0, Q4_K_M, ...), or null when the file does not say. */
  fileType: z.string().nullable(),
  /** How many tensors are stored in each type: {F32: 13, Q8_0: 16}. */
  tensorTypes: z.record(z.string(), z.number().int()),
  tensors: z.number().int(),
  chatTemplate: z.string().nullable(),
  /** Why the Embed cell cannot read the token embedding rows, or null when it can. */
  embeddings: z.string().nullable(),
});
export type GgufDetails = z.infer<typeof GgufDetails>;

/** A model the registry found, as the renderer and `ntl models` see it. */
export const ModelInfo = z.object({
  id: z.string(),
  name: z.string(),
  source: z.enum(['bundled', 'user', 'path']),
  /** A model folder with an ONNX graph, or a GGUF file run by llama.cpp (native engine and `ntl` only). */
  format: z.enum(['onnx', 'gguf']).default('onnx'),
  /** The GGUF header's details; null for an ONNX model. */
  gguf: GgufDetails.nullable().default(null),
  path: z.string(),
  description: z.string(),
  /** A prompt that shows the model at its best (from its card), or null. */
  defaultPrompt: z.string().nullable().default(null),
  modelType: z.string(),
  layers: z.number().int(),
  heads: z.number().int(),
  kvHeads: z.number().int(),
  hidden: z.number().int(),
  vocab: z.number().int(),
  context: z.number().int(),
  parameters: z.number().int().nullable(),
  /** Bytes of the ONNX file plus its external data. */
  bytes: z.number().int(),
  /** SHA-256 of the ONNX file. */
  sha256: z.string(),
  opset: z.number().int(),
  /** The weights' number format: float32, float16, int8 (quantized), ... */
  precision: z.string(),
  /** The graph's inputs, e.g. input_ids, attention_mask, position_ids. */
  graphInputs: z.array(z.string()),
  /** Which views of the notebook the graph supports, and why not where it does not. */
  views: z.array(ViewSupport),
  /** The variant described (fp32, fp16, quantized, q4, ...: the ONNX file's suffix). */
  variant: z.string().default('fp32'),
  /** Every variant the folder holds, with its files, so one can be chosen without listing the folder again. */
  variants: z
    .array(
      z.object({
        name: z.string(),
        onnx: z.string(),
        onnxWithPast: z.string().nullable(),
        onnxData: z.array(z.string()),
        bytes: z.number().int(),
      }),
    )
    .default([]),
  /** Paths inside the model folder, used to build its URLs. */
  files: z.object({
    config: z.string(),
    tokenizer: z.string(),
    tokenizerConfig: z.string().nullable(),
    onnx: z.string(),
    /** The key/value-cache graph used for generation, when the folder has one. */
    onnxWithPast: z.string().nullable().default(null),
    /** External weight files the ONNX file refers to (e.g. onnx/model.onnx_data). */
    onnxData: z.array(z.string()).default([]),
    card: z.string().nullable(),
  }),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

/**
 * A model as the page sees it: without the folder's absolute path, which the page does not need
 * (it fetches files by URL and the native engine finds them by id) and should not be told.
 */
export const PageModelInfo = ModelInfo.omit({ path: true });
export type PageModelInfo = z.infer<typeof PageModelInfo>;

export function toPageModelInfo(info: ModelInfo): PageModelInfo {
  return PageModelInfo.parse(info);
}

/** A folder that looked like a model but could not be used, and why. */
export const ModelProblem = z.object({ path: z.string(), message: z.string() });
export type ModelProblem = z.infer<typeof ModelProblem>;

export const ModelList = z.object({ models: z.array(ModelInfo), problems: z.array(ModelProblem) });
export type ModelList = z.infer<typeof ModelList>;

/** The models list as the page gets it. A problem keeps its folder's path: it tells the user which folder to fix. */
export const PageModelList = z.object({ models: z.array(PageModelInfo), problems: z.array(ModelProblem) });
export type PageModelList = z.infer<typeof PageModelList>;

export function toPageModelList(list: ModelList): PageModelList {
  return { models: list.models.map(toPageModelInfo), problems: list.problems };
}

/** The URL path (relative to the app's origin) of a file of a model. */
export function modelFileUrl(modelId: string, file: string): string {
  return `models/${encodeURIComponent(modelId)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

export const DEFAULT_MODEL_ID = 'seed-world';
