import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelInfo } from '../common/model-info';
import { ggufViews } from '../common/gguf-notes';
import { ggufPrecision, readGgufFacts, type GgufFacts } from './gguf-metadata';
import { GGUF_REGISTRATION, GgufRegistration } from './gguf-registration';
import { readJson } from './model-folder-files';

/**
 * A registered GGUF file (a folder holding `gguf.json`) as the model list shows it: its header read
 * where the file is, kept in `headers` per file version. A file moved, deleted or changed since it
 * was hashed is refused with that cause (listed as a problem).
 */
export async function describeGguf(folder: string, source: ModelInfo['source'], label: string, headers: Map<string, GgufFacts>): Promise<ModelInfo> {
  const parsed = GgufRegistration.safeParse(await readJson(join(folder, GGUF_REGISTRATION), label));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${label}: field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
  }
  const registration = parsed.data;
  const file = await stat(registration.path).catch(() => null);
  if (!file?.isFile()) throw new Error(`${basename(folder)}: the GGUF file ${registration.path} is missing (moved or deleted since it was added)`);
  if (file.size !== registration.bytes || file.mtimeMs !== registration.mtimeMs) {
    throw new Error(`${basename(folder)}: the GGUF file ${registration.path} has changed since it was added (${registration.bytes} bytes then, ${file.size} now); add it again`);
  }
  const key = `${registration.path}\0${file.size}\0${file.mtimeMs}`;
  let facts = headers.get(key);
  if (!facts) {
    facts = await readGgufFacts(registration.path);
    headers.set(key, facts);
  }
  return ggufModelInfo(facts, {
    id: basename(folder),
    source,
    path: registration.path,
    sha256: registration.sha256,
    origin: registration.origin,
    name: registration.name,
  });
}

/** A GGUF file's header as the registry lists the model. */
export function ggufModelInfo(
  facts: GgufFacts,
  where: { id: string; source: ModelInfo['source']; path: string; sha256: string; origin: NonNullable<ModelInfo['gguf']>['origin']; name: string | null },
): ModelInfo {
  return {
    id: where.id,
    name: where.name ?? facts.name ?? where.id,
    source: where.source,
    format: 'gguf',
    gguf: { file: basename(where.path), origin: where.origin, ...facts.details },
    path: where.path,
    description: '',
    defaultPrompt: null,
    modelType: facts.architecture,
    layers: facts.layers,
    heads: facts.heads,
    kvHeads: facts.kvHeads,
    hidden: facts.hidden,
    vocab: facts.vocab,
    context: facts.context,
    parameters: facts.parameters,
    bytes: facts.bytes,
    sha256: where.sha256,
    opset: 0,
    precision: ggufPrecision(facts),
    graphInputs: [],
    views: ggufViews(facts.details.embeddings),
    variant: 'gguf',
    variants: [],
    // No file of a GGUF model is served by URL: the page never loads it (the native engine reads the file).
    files: { config: '', tokenizer: '', tokenizerConfig: null, onnx: '', onnxWithPast: null, onnxData: [], card: null },
  };
}
