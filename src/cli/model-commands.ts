import type { ModelInfo } from '../common/model-info';
import { ModelImporter } from '../node/model-import';
import { UsageError, type ParsedCommand } from './args';
import { createRegistry, userModelsDir } from './model-host';
import { isGgufPath } from '../node/gguf-model';
import { GgufLibrary } from '../node/gguf-library';
import { table } from './table';
import type { CommandOutput } from './command-output';

/** A model as `ntl models` and `ntl import` print it. */
function modelJson(m: ModelInfo): Record<string, unknown> {
  return {
    id: m.id,
    name: m.name,
    source: m.source,
    format: m.format,
    path: m.path,
    model_type: m.modelType,
    layers: m.layers,
    heads: m.heads,
    kv_heads: m.kvHeads,
    hidden: m.hidden,
    vocab: m.vocab,
    context: m.context,
    parameters: m.parameters,
    bytes: m.bytes,
    precision: m.precision,
    opset: m.opset,
    sha256: m.sha256,
    variant: m.variant,
    variants: m.variants.map((v) => v.name),
    onnx: m.files.onnx,
    onnx_with_past: m.files.onnxWithPast,
    onnx_data: m.files.onnxData,
    inputs: m.graphInputs,
    views: Object.fromEntries(m.views.map((v) => [v.view, v.ok ? true : v.reason])),
    ...(m.gguf
      ? {
          gguf: {
            file: m.gguf.file,
            origin: m.gguf.origin,
            version: m.gguf.version,
            file_type: m.gguf.fileType,
            tensor_types: m.gguf.tensorTypes,
            tensors: m.gguf.tensors,
            chat_template: m.gguf.chatTemplate,
            embeddings: m.gguf.embeddings ?? true,
          },
        }
      : {}),
  };
}

export async function modelsCommand(): Promise<CommandOutput> {
  const registry = createRegistry();
  const list = await registry.list();
  const found = await new GgufLibrary(userModelsDir(), registry).found();
  const offered = found.files.filter((f) => f.registeredAs === null);
  const models = list.models.map(modelJson);
  const rows = list.models.map((m) => [m.id, m.format === 'gguf' ? `${m.source} (gguf)` : m.source, m.layers, m.kvHeads === m.heads ? m.heads : `${m.heads}/${m.kvHeads}`, m.hidden, m.vocab, m.context, m.parameters, m.bytes, m.precision, m.path]);
  const text = [
    models.length === 0 ? 'no models found' : table(
      [
        { title: 'id' },
        { title: 'source' },
        { title: 'layers', align: 'right' },
        { title: 'heads', align: 'right' },
        { title: 'hidden', align: 'right' },
        { title: 'vocab', align: 'right' },
        { title: 'context', align: 'right' },
        { title: 'parameters', align: 'right' },
        { title: 'bytes', align: 'right' },
        { title: 'precision' },
        { title: 'path' },
      ],
      rows,
    ),
    ...list.problems.map((p) => `problem: ${p.message}`),
    ...(offered.length > 0 ? ['', 'GGUF files found in LM Studio\'s and Ollama\'s folders (add one with ntl import PATH):'] : []),
    ...offered.map((f) => `  ${f.origin} ${f.name}: ${f.problem ?? `${f.architecture ?? '?'}, ${f.fileType ?? '?'}, ${f.parameters ?? '?'} parameters`}, ${f.bytes} bytes, ${f.path}`),
  ].join('\n');
  return { source: 'onnx', json: { models, problems: list.problems, gguf_found: found.files, gguf_searched: found.searched }, text };
}

/** `ntl import FOLDER`: validates a model folder and copies it into the user's models folder. */
export async function importCommand(parsed: ParsedCommand): Promise<CommandOutput> {
  const [folder, ...extra] = parsed.positionals;
  if (folder === undefined) throw new UsageError('import: name the model folder to import, e.g. ntl import ./my-gpt2');
  if (extra.length > 0) throw new UsageError(`import: one folder at a time (got ${parsed.positionals.length})`);
  const registry = createRegistry();
  if (isGgufPath(folder)) {
    // Registered by path and hash where it is: nothing is copied.
    const info = await new GgufLibrary(userModelsDir(), registry).addFile(folder);
    const types = Object.entries(info.gguf?.tensorTypes ?? {}).map(([t, n]) => `${n} ${t}`).join(', ');
    const text = [
      `added ${info.id}: ${info.path} (registered by path and SHA-256 ${info.sha256.slice(0, 12)}…, not copied)`,
      `${info.modelType}, ${info.layers} layers, ${info.heads} heads (${info.kvHeads} key/value), hidden ${info.hidden}, vocabulary ${info.vocab}, context ${info.context}, ${info.precision} (tensors: ${types}), ${info.bytes} bytes`,
    ].join('\n');
    return { source: 'gguf', json: modelJson(info), text };
  }
  const info = await new ModelImporter(userModelsDir(), registry).importFolder(folder);
  const unsupported = info.views.filter((v) => !v.ok).map((v) => `  ${v.view}: ${v.reason ?? ''}`);
  const text = [
    `imported ${info.id} into ${info.path}`,
    `${info.modelType}, ${info.layers} layers, ${info.heads} heads (${info.kvHeads} key/value), hidden ${info.hidden}, vocabulary ${info.vocab}, context ${info.context}, ${info.precision}, ${info.bytes} bytes`,
    ...(unsupported.length > 0 ? ['views that this model cannot show:', ...unsupported] : ['every view is available']),
  ].join('\n');
  return { source: 'onnx', json: modelJson(info), text };
}
