import { z } from 'zod';
import { modelSizeProblem } from './model-limits';

/**
 * Where the ONNX file of a model is looked for, first match wins: full precision first (the views
 * show exact numbers), then the fp16 and quantized variants that transformers.js exports ship.
 */
const ONNX_BASES = ['onnx/model', 'onnx/decoder_model_merged', 'onnx/decoder_model', 'model'] as const;
const ONNX_VARIANTS = ['', '_fp16', '_quantized', '_int8', '_uint8', '_q4', '_q4f16', '_bnb4'] as const;
export const ONNX_CANDIDATES: readonly string[] = ONNX_VARIANTS.flatMap((v) => ONNX_BASES.map((b) => `${b}${v}.onnx`));

/** The small files of a model folder that an import copies when present. */
export const MODEL_JSON_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'card.json', 'generation_config.json', 'special_tokens_map.json'] as const;

/** The key/value-cache graph beside the main graph, and the external data files of an ONNX file. */
export function companionFiles(onnx: string): { withPast: string | null; data: string[] } {
  const dir = onnx.includes('/') ? onnx.slice(0, onnx.lastIndexOf('/') + 1) : '';
  const withPast = `${dir}decoder_with_past.onnx`;
  return { withPast: withPast === onnx ? null : withPast, data: [`${onnx}_data`, `${onnx}.data`] };
}

/** A file an import will send: its path inside the model folder and its size in bytes. */
export const ImportFile = z.object({
  path: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, 'expected a path inside the model folder such as onnx/model.onnx')
    .refine((p) => !p.split('/').some((s) => s.startsWith('.')), 'path segments may not start with a dot'),
  size: z.number().int().nonnegative(),
});
export type ImportFile = z.infer<typeof ImportFile>;

export const ImportBegin = z.object({
  /** The name of the folder the user chose; the model's id is made from it. */
  name: z.string().min(1).max(100),
  files: z.array(ImportFile).min(1).max(16),
});
export type ImportBegin = z.infer<typeof ImportBegin>;

export const ImportToken = z.string().regex(/^[0-9a-f-]{36}$/, 'expected an import token');

export const ImportChunk = z.object({
  token: ImportToken,
  file: z.string().min(1).max(200),
  offset: z.number().int().nonnegative(),
  data: z.instanceof(Uint8Array),
});
export type ImportChunk = z.infer<typeof ImportChunk>;

/** Largest piece of a file one request carries. */
export const IMPORT_CHUNK_BYTES = 8 * 1024 * 1024;

export interface ImportPlan {
  /** The chosen folder's name. */
  name: string;
  files: ImportFile[];
  onnx: string;
  /** Other ONNX variants in the folder that are not imported (e.g. model_q4.onnx beside model.onnx). */
  skipped: string[];
}

/**
 * Decides which files of a chosen folder an import sends, before any byte is read: the JSON files,
 * the first ONNX file in `ONNX_CANDIDATES` order, its key/value-cache graph and external data.
 * `entries` are paths relative to the chosen folder. Throws an Error naming what is missing.
 */
export function planImport(name: string, entries: readonly ImportFile[]): ImportPlan {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const required of ['config.json', 'tokenizer.json']) {
    if (!byPath.has(required)) throw new Error(`${name}/${required} is missing: a model folder has config.json, tokenizer.json and an ONNX file`);
  }
  const onnx = ONNX_CANDIDATES.find((c) => byPath.has(c));
  if (!onnx) throw new Error(`${name}: no ONNX file (looked for ${ONNX_CANDIDATES.slice(0, 4).join(', ')} and their _fp16/_quantized/_q4 variants)`);
  const { withPast, data } = companionFiles(onnx);
  const wanted = [...MODEL_JSON_FILES, onnx, ...data, ...(withPast ? [withPast, ...companionFiles(withPast).data] : [])];
  const files = wanted.flatMap((p) => byPath.get(p) ?? []);
  const onnxSize = byPath.get(onnx)?.size ?? 0;
  const dataSize = data.reduce((sum, p) => sum + (byPath.get(p)?.size ?? 0), 0);
  const tooBig = modelSizeProblem(onnxSize, dataSize);
  if (tooBig) throw new Error(`${name}/${onnx}: ${tooBig}`);
  const skipped = entries.map((e) => e.path).filter((p) => p.endsWith('.onnx') && !wanted.includes(p));
  return { name, files, onnx, skipped };
}

/** A model id made from a folder name: letters, digits, dot, dash and underscore, not starting with a dot. */
export function modelIdFrom(name: string): string {
  const id = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+|-+$/g, '')
    .slice(0, 64);
  return id || 'model';
}
