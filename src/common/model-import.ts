import { z } from 'zod';
import { modelSizeProblem } from './model-limits';

/**
 * Where the ONNX file of a model is looked for, first match wins: full precision first (the views
 * show exact numbers), then the fp16 and quantized variants that transformers.js exports ship.
 */
const ONNX_BASES = ['onnx/model', 'onnx/decoder_model_merged', 'onnx/decoder_model', 'model'] as const;
const ONNX_VARIANTS = ['', '_fp16', '_quantized', '_int8', '_uint8', '_q4', '_q4f16', '_bnb4'] as const;
export const ONNX_CANDIDATES: readonly string[] = ONNX_VARIANTS.flatMap((v) => ONNX_BASES.map((b) => `${b}${v}.onnx`));

/**
 * The variants a model folder can hold, named as transformers.js names its files' suffixes:
 * fp32 (no suffix: full precision), fp16, quantized (ONNX Runtime's int8 dynamic quantization), q4, ...
 */
export const VARIANT_NAMES: readonly string[] = ONNX_VARIANTS.map((v) => (v === '' ? 'fp32' : v.slice(1)));

/** The variant an ONNX file of a model folder is (by its suffix), or null when it is not one of the files looked for. */
export function variantOf(file: string): string | null {
  if (!ONNX_CANDIDATES.includes(file)) return null;
  const stem = file.replace(/\.onnx$/, '');
  const suffix = ONNX_VARIANTS.filter((v) => v !== '' && stem.endsWith(v)).sort((a, b) => b.length - a.length)[0] ?? '';
  return suffix === '' ? 'fp32' : suffix.slice(1);
}

/** The files looked for when a variant is asked for (every candidate when none is), best first. */
export function variantCandidates(variant: string | null | undefined): readonly string[] {
  if (!variant) return ONNX_CANDIDATES;
  if (!VARIANT_NAMES.includes(variant)) throw new Error(`unknown variant "${variant}": expected one of ${VARIANT_NAMES.join(', ')}`);
  return ONNX_CANDIDATES.filter((c) => variantOf(c) === variant);
}

/** The small files of a model folder that an import copies when present. */
export const MODEL_JSON_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'card.json', 'generation_config.json', 'special_tokens_map.json'] as const;

/**
 * The key/value-cache graphs that may sit beside a main graph, first found wins (ours:
 * decoder_with_past.onnx; Optimum's: decoder_with_past_model.onnx, with the main graph's variant
 * suffix), and the external data files of an ONNX file. A merged decoder carries its own cache.
 */
export function companionFiles(onnx: string): { withPast: string[]; data: string[] } {
  const dir = onnx.includes('/') ? onnx.slice(0, onnx.lastIndexOf('/') + 1) : '';
  const variant = variantOf(onnx);
  const suffix = variant && variant !== 'fp32' ? `_${variant}` : '';
  const merged = onnx.slice(dir.length).startsWith('decoder_model_merged');
  const withPast = merged ? [] : [`${dir}decoder_with_past_model${suffix}.onnx`, `${dir}decoder_with_past${suffix}.onnx`];
  return { withPast: withPast.filter((f) => f !== onnx), data: [`${onnx}_data`, `${onnx}.data`] };
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
export function planImport(name: string, entries: readonly ImportFile[], variant?: string | null): ImportPlan {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const required of ['config.json', 'tokenizer.json']) {
    if (!byPath.has(required)) throw new Error(`${name}/${required} is missing: a model folder has config.json, tokenizer.json and an ONNX file`);
  }
  const onnx = variantCandidates(variant).find((c) => byPath.has(c));
  if (!onnx) throw new Error(noOnnxMessage(name, variant, entries.map((e) => e.path)));
  const { withPast, data } = companionFiles(onnx);
  const cacheGraph = withPast.find((f) => byPath.has(f));
  const wanted = [...MODEL_JSON_FILES, onnx, ...data, ...(cacheGraph ? [cacheGraph, ...companionFiles(cacheGraph).data] : [])];
  const files = wanted.flatMap((p) => byPath.get(p) ?? []);
  const onnxSize = byPath.get(onnx)?.size ?? 0;
  const dataSize = data.reduce((sum, p) => sum + (byPath.get(p)?.size ?? 0), 0);
  const tooBig = modelSizeProblem(onnxSize, dataSize);
  if (tooBig) throw new Error(`${name}/${onnx}: ${tooBig}`);
  const skipped = entries.map((e) => e.path).filter((p) => p.endsWith('.onnx') && !wanted.includes(p));
  return { name, files, onnx, skipped };
}

/** Why no ONNX file was chosen: none of the names looked for, or not the variant asked for (naming those present). */
export function noOnnxMessage(folder: string, variant: string | null | undefined, paths: readonly string[]): string {
  const present = [...new Set(paths.map(variantOf).filter((v) => v !== null))];
  if (variant && present.length > 0) return `${folder}: no ${variant} variant (this folder has ${present.join(', ')})`;
  return `${folder}: no ONNX file (looked for ${ONNX_CANDIDATES.slice(0, 4).join(', ')} and their _fp16/_quantized/_q4 variants)`;
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
