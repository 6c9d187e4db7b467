import type { ModelFiles } from './session';

/** Where each file of a model folder comes from: a path on disk, or a URL the page fetches. */
export interface FolderSources<S> {
  id: string;
  config: S;
  tokenizer: S;
  /** Absent in some folders: then the tokenizer reads `{}`, the same in every host. */
  tokenizerConfig: S | null;
  onnx: S;
  onnxWithPast: S | null;
  /** External data: the name the graph refers to, and where it comes from. */
  onnxData: { path: string; source: S }[];
  /** The two graphs' paths inside the folder, for messages. */
  onnxFile: string;
  onnxWithPastFile: string | null;
}

/** How a host reads a file: fs in Node, fetch in the page. `label` names the file in errors. */
export interface FolderReader<S> {
  json(source: S, label: string): Promise<unknown>;
  bytes(source: S, label: string): Promise<Uint8Array>;
}

/** The JSON files of a model folder (what the tokenizer needs), read the same way by every host. */
export async function readTokenizerFiles<S>(sources: FolderSources<S>, reader: FolderReader<S>): Promise<Pick<ModelFiles, 'config' | 'tokenizer' | 'tokenizerConfig'>> {
  const label = (file: string): string => `${sources.id}/${file}`;
  const [config, tokenizer, tokenizerConfig] = await Promise.all([
    reader.json(sources.config, label('config.json')),
    reader.json(sources.tokenizer, label('tokenizer.json')),
    sources.tokenizerConfig === null ? Promise.resolve({}) : reader.json(sources.tokenizerConfig, label('tokenizer_config.json')),
  ]);
  return { config, tokenizer, tokenizerConfig };
}

/**
 * Every file `OnnxModel.load` needs from a model folder: the one reader of model folders for the
 * page's worker, the native engine, the command line and the import check.
 */
export async function readModelFolder<S>(sources: FolderSources<S>, reader: FolderReader<S>): Promise<ModelFiles> {
  const label = (file: string): string => `${sources.id}/${file}`;
  const [json, onnx, onnxWithPast, ...data] = await Promise.all([
    readTokenizerFiles(sources, reader),
    reader.bytes(sources.onnx, label(sources.onnxFile)),
    sources.onnxWithPast === null ? Promise.resolve(null) : reader.bytes(sources.onnxWithPast, label(sources.onnxWithPastFile ?? 'decoder_with_past.onnx')),
    ...sources.onnxData.map((d) => reader.bytes(d.source, label(d.path))),
  ]);
  return {
    id: sources.id,
    ...json,
    onnx,
    onnxFile: sources.onnxFile,
    onnxWithPast,
    onnxWithPastFile: sources.onnxWithPastFile,
    externalData: sources.onnxData.map((d, i) => ({ path: d.path, data: data[i] as Uint8Array })),
  };
}
