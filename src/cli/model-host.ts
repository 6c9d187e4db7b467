import { errorMessage } from '../common/error-message';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_ID } from '../common/model-info';
import { VARIANT_NAMES } from '../common/model-import';
import { fitPrompt } from '../engine/cell-results';
import { threadsFor } from '../engine/threads';
import { OnnxModel, type OrtModule } from '../engine/session';
import { ModelTokenizer, type TokenPiece } from '../engine/tokenizer';
import { readTokenizerFiles } from '../engine/model-files';
import type { LocatedModel, ModelRegistry } from '../node/model-registry';
import { diskReader, folderSources, readModelFiles } from '../node/model-folder-files';
import { checkedTokenizer } from '../node/graph-check';
import { nodeModelRegistry, nodeModelRoots } from '../node/model-roots';
import { GGUF_REGISTRATION } from '../node/gguf-registration';
import { loadNativeOrt, loadOrt } from '../node/ort-runtime';
import { GgufModel, isGgufPath } from '../node/gguf-model';
import type { EngineModel, EngineTokenizer } from '../engine/contract';
import { UsageError, numberOption, stringOption, type ParsedCommand } from './args';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export { userModelsDir } from '../node/model-roots';

/** The same roots as the browser build: bundled models, then the user's models folder. */
export function createRegistry(): ModelRegistry {
  return nodeModelRegistry(projectRoot);
}

/**
 * The model a command names (`--model`, else `fallback`), in the variant `--variant` asks for: checked
 * as the model list checks it, without the list's graph facts and file hash, which no command that
 * runs the model prints.
 */
export async function resolveModel(values: ParsedCommand['values'], fallback = DEFAULT_MODEL_ID): Promise<LocatedModel> {
  const variant = stringOption(values, 'variant') ?? null;
  if (variant !== null && !VARIANT_NAMES.includes(variant)) throw new UsageError(`--variant: unknown variant "${variant}"; expected one of ${VARIANT_NAMES.join(', ')}`);
  return createRegistry().locate(stringOption(values, 'model') ?? fallback, variant);
}

export interface RuntimeOptions {
  /** `auto` (no `--backend`): native where onnxruntime-node loads, else wasm. */
  backend: 'wasm' | 'native' | 'auto';
  /** Null (no `--threads`): by the model's size (`threadsFor`). */
  threads: number | null;
  /** Generate on the model's key/value-cache graph when it has one (`--no-cache` turns it off). */
  cache: boolean;
}

export function runtimeOptions(values: ParsedCommand['values']): RuntimeOptions {
  const backend = stringOption(values, 'backend') ?? 'auto';
  if (backend === 'webgpu') throw new UsageError('--backend webgpu is not available in Node (there is no WebGPU here); use --backend wasm or native');
  if (backend !== 'wasm' && backend !== 'native' && backend !== 'auto') throw new UsageError(`--backend: unknown backend "${backend}"; the command line has wasm and native`);
  const threads = numberOption(values, 'threads', { integer: true, min: 1, max: 64 }) ?? null;
  return { backend, threads, cache: values['no-cache'] !== true };
}

export interface Timing {
  backend: string;
  threads: number;
  load_ms: number;
  forward_ms: number;
  /** Whether generation ran on the key/value cache. */
  kv_cache: boolean;
  /** Why not, when it did not (no cache graph, --no-cache, or one that failed). */
  kv_cache_note?: string;
  /** Why a model of two files holds its weights twice (a session per file), when it does. */
  weights_note?: string;
}

export interface LoadedModel {
  info: LocatedModel;
  engine: OnnxModel;
  loadMs: number;
}

/** Reads a model folder and creates its ONNX Runtime session (onnxruntime-web's Node build, or onnxruntime-node for native). */
export async function loadModel(info: LocatedModel, runtime: RuntimeOptions): Promise<LoadedModel> {
  if (info.format === 'gguf') throw new UsageError(`${info.id} is a GGUF model (${info.path}); this command runs ONNX models only`);
  const started = performance.now();
  // The graphs are read without their weights: onnxruntime-node reads those from the files, and the
  // engine reads each file whole for onnxruntime-web only while its session is created.
  const [{ ort, backend }, files] = await Promise.all([runtimeFor(runtime.backend), readModelFiles(info, { weightsOnDisk: true })]);
  const tokenizerBuilt = checkedTokenizer(info);
  const engine = await OnnxModel.load(ort, tokenizerBuilt ? { ...files, tokenizerBuilt } : files, { backend, threads: runtime.threads ?? threadsFor(info.bytes, availableParallelism()), cache: runtime.cache });
  // One short pass starts the backend's threads and kernels (counted in load_ms), so the timed
  // forward_ms is the model run alone, as the app's worker does after loading. A graph that refuses
  // it (a fixed sequence length, say) reports its error on the real run instead.
  await engine.forward([0], false).catch(() => undefined);
  return { info, engine, loadMs: performance.now() - started };
}

/** ONNX Runtime for a backend; `auto` is native where onnxruntime-node loads, else wasm (with a note saying why). */
async function runtimeFor(backend: RuntimeOptions['backend']): Promise<{ ort: OrtModule; backend: 'wasm' | 'native' }> {
  if (backend !== 'auto') return { ort: await loadOrt(backend), backend };
  try {
    return { ort: await loadNativeOrt(), backend: 'native' };
  } catch (cause) {
    process.stderr.write(`ntl: note: ${errorMessage(cause)}; running on wasm\n`);
    return { ort: await loadOrt('wasm'), backend: 'wasm' };
  }
}

/** Only the tokenizer, for commands that do not run the model (the ONNX file is not read). */
export async function loadTokenizer(info: LocatedModel): Promise<ModelTokenizer> {
  if (info.format === 'gguf') throw new UsageError(`${info.id} is a GGUF model (${info.path}); this command runs ONNX models only`);
  const files = await readTokenizerFiles(folderSources(info), diskReader);
  return new ModelTokenizer(files.tokenizer, files.tokenizerConfig);
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function timing(model: { engine: EngineModel; loadMs: number }, forwardMs: number): Timing {
  const { engine } = model;
  return {
    backend: engine.backend,
    threads: engine.threads,
    load_ms: round(model.loadMs),
    forward_ms: round(forwardMs),
    kv_cache: engine.hasCache,
    ...(engine.hasCache ? {} : { kv_cache_note: engine.cacheNote ?? 'generation recomputes the whole sequence at each step' }),
    ...(engine instanceof OnnxModel && engine.sessionNote ? { weights_note: engine.sessionNote } : {}),
  };
}

export interface EncodedPrompt {
  pieces: TokenPiece[];
  /** Tokens dropped from the left to fit the model's context. */
  truncated: number;
}

/**
 * Encodes a prompt and fits it to the context as every host does (`fitPrompt`): with `reserve`, room
 * is left for that many generated tokens; a note on stderr says how many tokens were dropped.
 */
export function encodePrompt(tokenizer: EngineTokenizer, prompt: string | undefined, context: number, reserve = 0): EncodedPrompt {
  if (prompt === undefined) throw new UsageError('--prompt is required');
  if (prompt === '') throw new UsageError('the prompt is empty');
  const ids = tokenizer.encode(prompt);
  if (ids.length === 0) throw new UsageError('the prompt has no tokens');
  const fitted = fitPrompt(ids, context, reserve);
  if (fitted.dropped > 0) {
    const limit = fitted.ids.length;
    process.stderr.write(
      `ntl: note: the prompt has ${ids.length} tokens, more than ${limit === context ? `the model's context of ${context}` : `${limit} (the model's context of ${context} less room to generate)`}; dropped the first ${fitted.dropped}\n`,
    );
  }
  // Labels for the kept tokens only: a long prompt's dropped tokens would cost seconds for nothing.
  return { pieces: fitted.ids.map((id) => tokenizer.piece(id)), truncated: fitted.dropped };
}

/**
 * What every model-running command starts with: the model `--model`/`--variant` name (else
 * `fallback`), loaded on `--backend`/`--threads`, and the prompt encoded and fitted to its context.
 */
export async function loadWithPrompt(
  values: ParsedCommand['values'],
  prompt: string | undefined,
  options: { reserve?: number; fallback?: string } = {},
): Promise<{ info: LocatedModel; model: LoadedModel } & EncodedPrompt> {
  const runtime = runtimeOptions(values);
  const info = await resolveModel(values, options.fallback);
  const model = await loadModel(info, runtime);
  return { info, model, ...encodePrompt(model.engine.tokenizer, prompt, info.context, options.reserve) };
}

/**
 * The GGUF file `--model` names (a path ending in .gguf, or the id of a GGUF file added with `ntl
 * import`), else null: such a model runs on llama.cpp, not ONNX Runtime.
 */
export async function ggufPath(values: ParsedCommand['values']): Promise<string | null> {
  const model = stringOption(values, 'model');
  if (model === undefined) return null;
  const path = isGgufPath(model) ? resolve(model) : await registeredGgufPath(model);
  if (path === null) return null;
  if (stringOption(values, 'variant') !== undefined) throw new UsageError('--variant picks an ONNX file of a model folder; a GGUF file is one variant already');
  if (stringOption(values, 'backend') !== undefined) throw new UsageError('--backend picks ONNX Runtime\'s backend; a GGUF model runs on llama.cpp\'s CPU build');
  return path;
}

/** The file of a GGUF model registered under `id` (the first models folder holding that id decides), else null. */
async function registeredGgufPath(id: string): Promise<string | null> {
  if (/[\\/]/.test(id) || id.startsWith('.')) return null;
  for (const root of nodeModelRoots(projectRoot)) {
    if (!existsSync(join(root.dir, id))) continue;
    if (!existsSync(join(root.dir, id, GGUF_REGISTRATION))) return null;
    // Listed as missing or changed when the file is no longer the one added: resolve says so.
    return (await createRegistry().resolve(id)).path;
  }
  return null;
}

export interface LoadedGguf {
  info: { id: string; context: number };
  engine: GgufModel;
  loadMs: number;
}

/** A GGUF file on llama.cpp (`--threads`), and the prompt encoded by llama.cpp's tokenizer and fitted to its context. */
export async function loadGgufWithPrompt(
  values: ParsedCommand['values'],
  path: string,
  prompt: string | undefined,
  options: { reserve?: number } = {},
): Promise<{ info: LoadedGguf['info']; model: LoadedGguf } & EncodedPrompt> {
  const threads = numberOption(values, 'threads', { integer: true, min: 1, max: 64 }) ?? 1;
  const engine = await GgufModel.load(path, { threads });
  const info = { id: engine.id, context: engine.config.context };
  const model = { info, engine, loadMs: engine.loadMs };
  return { info, model, ...encodePrompt(engine.tokenizer, prompt, info.context, options.reserve) };
}
