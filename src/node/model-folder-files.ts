import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelInfo } from '../common/model-info';
import { MAX_MODEL_JSON_BYTES, formatBytes } from '../common/model-limits';
import type { ByteSource } from '../engine/byte-source';
import { readModelFolder, type FolderReader, type FolderSources } from '../engine/model-files';
import { graphWithoutWeights } from './file-source';
import type { ModelFiles } from '../engine/session';
import { errorMessage } from './request-error';

export function isMissing(cause: unknown): boolean {
  return cause instanceof Error && 'code' in cause && (cause.code === 'ENOENT' || cause.code === 'ENOTDIR');
}

/** A model's JSON file, within the size limit of one; the error names `label` and the cause. */
export async function readJson(path: string, label: string): Promise<unknown> {
  let text: string;
  let size = 0;
  try {
    size = (await stat(path)).size;
    if (size <= MAX_MODEL_JSON_BYTES) text = await readFile(path, 'utf8');
    else text = '';
  } catch (cause) {
    if (isMissing(cause)) throw new Error(`${label} is missing`);
    throw new Error(`${label} could not be read: ${errorMessage(cause)}`);
  }
  if (size > MAX_MODEL_JSON_BYTES) {
    throw new Error(`${label}: ${formatBytes(size)} is more than a model's JSON file can be (at most ${formatBytes(MAX_MODEL_JSON_BYTES)}); it was not read`);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new Error(`${label} is not valid JSON: ${errorMessage(cause)}`);
  }
}

/** What the readers need of a model: where its folder is and which files in it. */
type ModelFolder = Pick<ModelInfo, 'id' | 'path' | 'files'>;

/** Where a listed model's files are on disk, for the one folder reader (`src/engine/model-files.ts`). */
export function folderSources(info: ModelFolder): FolderSources<string> {
  const at = (file: string): string => join(info.path, file);
  return {
    id: info.id,
    config: at(info.files.config),
    tokenizer: at(info.files.tokenizer),
    tokenizerConfig: info.files.tokenizerConfig ? at(info.files.tokenizerConfig) : null,
    onnx: at(info.files.onnx),
    onnxWithPast: info.files.onnxWithPast ? at(info.files.onnxWithPast) : null,
    onnxData: info.files.onnxData.map((file) => ({ path: basename(file), source: at(file) })),
    onnxFile: info.files.onnx,
    onnxWithPastFile: info.files.onnxWithPast,
  };
}

/** Reads files from disk: JSON within the size limit of a model's JSON file, bytes as one Uint8Array. */
export const diskReader: FolderReader<string> = {
  json: (path) => readJson(path, path),
  bytes: async (path) => {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
};

/**
 * Reads a model's files for `OnnxModel.load` (the ONNX bytes as one Uint8Array), with `reread`: the
 * engine reads the ONNX file again when it needs its bytes after loading, instead of keeping them.
 * With `weightsOnDisk` (the native backend) the graphs are read without their weights, which
 * onnxruntime-node reads from the files in `folder` itself (`file-source.ts`), so that the weights
 * are never held in JavaScript.
 */
export async function readModelFiles(info: ModelFolder, options: { weightsOnDisk?: boolean } = {}): Promise<ModelFiles> {
  const sources = folderSources(info);
  const skimmed = new Map<string, ByteSource>();
  const reader: FolderReader<string> = {
    json: diskReader.json,
    bytes: async (path, label) => {
      if (options.weightsOnDisk && (path === sources.onnx || path === sources.onnxWithPast)) {
        const read = graphWithoutWeights(path, label);
        if (read) {
          skimmed.set(path, read.source);
          return read.graph;
        }
      }
      return diskReader.bytes(path, label);
    },
  };
  const files = await readModelFolder(sources, reader);
  const rereader = (path: string) => (): Uint8Array => {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  };
  const onnxSource = skimmed.get(sources.onnx);
  const onnxWithPastSource = skimmed.get(sources.onnxWithPast ?? '');
  return {
    ...files,
    reread: rereader(sources.onnx),
    ...(sources.onnxWithPast ? { rereadWithPast: rereader(sources.onnxWithPast) } : {}),
    folder: info.path,
    ...(onnxSource ? { onnxSource } : {}),
    ...(onnxWithPastSource ? { onnxWithPastSource } : {}),
  };
}
