import { open, stat } from 'node:fs/promises';
import type * as GgufLibraryModule from '@huggingface/gguf';
import type { GGUFTensorInfo } from '@huggingface/gguf';
import type { GgufDetails } from '../common/model-info';
import { errorMessage } from './request-error';

/** What a GGUF file's header says about its model, read with `@huggingface/gguf` (the header only, never the weights). */
export interface GgufFacts {
  architecture: string;
  /** `general.name`, or null. */
  name: string | null;
  layers: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  context: number;
  vocab: number;
  parameters: number;
  bytes: number;
  details: Omit<GgufDetails, 'origin' | 'file'>;
  /** Where the token embedding table's bytes are, for the Embed cell (`gguf-embeddings.ts`). */
  tokenEmbedding: { type: string; offset: number; rows: number; cols: number } | null;
}

/** Tensor types whose rows the Embed cell can read (Q8_0 is dequantized); any other is named in the reason. */
export const READABLE_EMBEDDING_TYPES = ['F32', 'F16', 'BF16', 'Q8_0'] as const;

const GGUF_MAGIC = 0x46554747; // "GGUF", little-endian

/** @huggingface/gguf, imported on first use: with what it imports it is a fifth of `ntl`'s bundle, which ONNX models never need. */
type GgufLibrary = typeof GgufLibraryModule;

const typeName = (library: GgufLibrary, type: number): string => library.GGMLQuantizationType[type] ?? `type ${type}`;

function fileTypeName(library: GgufLibrary, value: unknown): string | null {
  if (typeof value !== 'number') return null;
  const name = library.GGMLFileQuantizationType[value];
  return name ?? `file type ${value}`;
}

/** Why the Embed cell cannot show a GGUF model's token embedding rows, or null when it can. */
export function embeddingProblem(table: GgufFacts['tokenEmbedding']): string | null {
  if (!table) return 'the file has no token_embd.weight tensor';
  if (!(READABLE_EMBEDDING_TYPES as readonly string[]).includes(table.type)) {
    return `token_embd.weight is stored as ${table.type}; the Embed cell reads ${READABLE_EMBEDDING_TYPES.join(', ')} tables only`;
  }
  return null;
}

/**
 * Reads a GGUF file's header: architecture, shape, context, vocabulary, the type of every tensor
 * (counted), the parameter count and the chat template. Throws an Error naming the file and the
 * cause for a file that is not GGUF, is truncated in its header or lacks the model's shape.
 */
export async function readGgufFacts(path: string): Promise<GgufFacts> {
  const size = await stat(path).then(
    (s) => s.size,
    (cause: unknown) => {
      throw new Error(`${path}: ${errorMessage(cause).includes('ENOENT') ? 'no such GGUF file' : errorMessage(cause)}`);
    },
  );
  // The library's own message for a wrong magic is a bare "not a valid gguf file: not starting with GGUF magic number".
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead < 4 || head.readUInt32LE(0) !== GGUF_MAGIC) throw new Error(`${path}: not a GGUF file (it does not start with "GGUF")`);
  } finally {
    await handle.close();
  }
  const library = await import('@huggingface/gguf');
  let parsed;
  try {
    parsed = await library.gguf(path, { allowLocalFile: true, computeParametersCount: true });
  } catch (cause) {
    throw new Error(`${path}: its GGUF header could not be read (${errorMessage(cause)}); the file may be truncated or corrupted`);
  }
  const meta = parsed.metadata as Record<string, unknown>;
  const architecture = meta['general.architecture'];
  if (typeof architecture !== 'string') throw new Error(`${path}: the GGUF header has no general.architecture`);
  const num = (key: string): number | null => {
    const v = meta[`${architecture}.${key}`];
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
  };
  const layers = num('block_count');
  const hidden = num('embedding_length');
  if (layers === null || hidden === null) throw new Error(`${path}: the GGUF header lacks ${architecture}.block_count or ${architecture}.embedding_length`);
  const headsValue = meta[`${architecture}.attention.head_count`];
  // Some architectures give a count per layer (an array); the first layer's is shown.
  const heads = typeof headsValue === 'number' ? headsValue : Array.isArray(headsValue) && typeof headsValue[0] === 'number' ? headsValue[0] : 0;
  const kvValue = meta[`${architecture}.attention.head_count_kv`];
  const kvHeads = typeof kvValue === 'number' ? kvValue : Array.isArray(kvValue) && typeof kvValue[0] === 'number' ? kvValue[0] : heads;
  const tokens = meta['tokenizer.ggml.tokens'];
  const embd = parsed.tensorInfos.find((t) => t.name === 'token_embd.weight');
  const vocab = Array.isArray(tokens) ? tokens.length : embd ? Number(embd.shape[1] ?? 0) : (num('vocab_size') ?? 0);
  const tensorTypes: Record<string, number> = {};
  let lastEnd = 0;
  for (const t of parsed.tensorInfos) {
    const name = typeName(library, t.dtype);
    tensorTypes[name] = (tensorTypes[name] ?? 0) + 1;
    lastEnd = Math.max(lastEnd, Number(t.offset));
  }
  const dataStart = Number(parsed.tensorDataOffset);
  if (dataStart + lastEnd > size) throw new Error(`${path}: truncated: its tensors start past the end of the file (${size} bytes)`);
  const template = meta['tokenizer.chat_template'];
  const table = embd ? embeddingTable(library, embd, dataStart) : null;
  return {
    architecture,
    name: typeof meta['general.name'] === 'string' ? meta['general.name'] : null,
    layers,
    heads,
    kvHeads,
    hidden,
    context: num('context_length') ?? 0,
    vocab,
    parameters: parsed.parameterCount,
    bytes: size,
    details: {
      fileType: fileTypeName(library, meta['general.file_type']),
      tensorTypes,
      chatTemplate: typeof template === 'string' ? template : null,
      version: typeof meta['version'] === 'number' ? meta['version'] : 0,
      tensors: parsed.tensorInfos.length,
      embeddings: embeddingProblem(table),
    },
    tokenEmbedding: table,
  };
}

function embeddingTable(library: GgufLibrary, t: GGUFTensorInfo, dataStart: number): GgufFacts['tokenEmbedding'] {
  // GGUF dims run fastest first: [width, vocabulary].
  return { type: typeName(library, t.dtype), offset: dataStart + Number(t.offset), cols: Number(t.shape[0] ?? 0), rows: Number(t.shape[1] ?? 1) };
}

/** The weights' format in one label: the file type, else the commonest tensor type. */
export function ggufPrecision(facts: GgufFacts): string {
  if (facts.details.fileType) return facts.details.fileType.replace(/^MOSTLY_/, '');
  const [top] = Object.entries(facts.details.tensorTypes).sort((a, b) => b[1] - a[1]);
  return top?.[0] ?? 'unknown';
}
