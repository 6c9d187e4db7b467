import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { modelIdFrom } from '../common/model-import';
import { formatBytes } from '../common/model-limits';
import { readGgufFacts } from './gguf-metadata';
import { RequestError, errorMessage } from './request-error';

/**
 * A GGUF file is registered, not copied (they are gigabytes, and LM Studio or Ollama keeps them):
 * a folder in the user's models folder holds only `gguf.json`, naming the file by absolute path with
 * its SHA-256, size and modification time. The registry lists such a folder as a GGUF model, and as
 * missing or changed when the file is gone or is no longer the one hashed.
 */
export const GGUF_REGISTRATION = 'gguf.json';

export const GgufRegistration = z.object({
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  mtimeMs: z.number(),
  origin: z.enum(['registered', 'lmstudio', 'ollama']),
  /** A name to show (Ollama's NAME:TAG, LM Studio's publisher/model), or null for the file's name. */
  name: z.string().max(200).nullable().default(null),
});
export type GgufRegistration = z.infer<typeof GgufRegistration>;

/** SHA-256 of a file, streamed (a 4 GB file takes some seconds). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The digest an Ollama blob is named by (`sha256-<hex>`), which Ollama checked when it pulled the file. */
export function ollamaBlobDigest(path: string): string | null {
  return /^sha256-([0-9a-f]{64})$/.exec(basename(path))?.[1] ?? null;
}

export interface RegisterGgufOptions {
  origin?: GgufRegistration['origin'];
  name?: string | null;
  /** Ids already taken (every model the registry lists). */
  takenIds: ReadonlySet<string>;
  /** The machine's memory (os.totalmem()): a larger file could never be loaded, and is refused now. */
  memoryBytes?: number;
}

/**
 * Registers a GGUF file in `modelsDir` after reading its header (a file that is not GGUF, or whose
 * header is truncated, is refused with the cause): returns the new model's id. An Ollama blob's
 * hash is its name; any other file is hashed.
 */
export async function registerGguf(modelsDir: string, file: string, options: RegisterGgufOptions): Promise<string> {
  const path = resolve(file);
  const info = await stat(path).catch(() => null);
  if (!info) throw new RequestError(404, `${path} does not exist`);
  if (!info.isFile()) throw new RequestError(400, `${path} is not a file`);
  const memory = options.memoryBytes ?? totalmem();
  if (info.size > memory) {
    throw new RequestError(422, `${path}: the file (${formatBytes(info.size)}) is larger than this machine's memory (${formatBytes(memory)}); llama.cpp could not load it`);
  }
  let architecture: string;
  try {
    architecture = (await readGgufFacts(path)).architecture;
  } catch (cause) {
    throw new RequestError(422, errorMessage(cause));
  }
  // The architectures the bundled llama.cpp runs (node-llama-cpp's list is generated from it); its JavaScript only, no binary.
  // (A const enum in its types: read as the plain object it is at run time.)
  const { ...exports } = await import('node-llama-cpp');
  const exported: unknown = Object.entries(exports).find(([name]) => name === 'GgufArchitectureType')?.[1];
  const known = exported !== null && typeof exported === 'object' ? Object.values(exported).filter((v): v is string => typeof v === 'string') : [];
  if (known.length > 0 && !known.includes(architecture)) {
    throw new RequestError(422, `${path}: architecture "${architecture}" is not one the bundled llama.cpp (node-llama-cpp 3.21.1) can run`);
  }
  const existing = await registeredPaths(modelsDir);
  const already = existing.get(path);
  if (already !== undefined) throw new RequestError(409, `${path} is already added, as ${already}`);
  const sha256 = ollamaBlobDigest(path) ?? (await sha256File(path));
  const name = options.name ?? null;
  const base = modelIdFrom((name ?? basename(path)).replace(/\.gguf$/i, '').replace(/[:/]/g, '-'));
  const names = new Set(await readdir(modelsDir).catch(() => [] as string[]));
  let id = base;
  for (let n = 2; options.takenIds.has(id) || names.has(id); n++) id = `${base}-${n}`;
  const registration: GgufRegistration = { path, sha256, bytes: info.size, mtimeMs: info.mtimeMs, origin: options.origin ?? 'registered', name };
  // Written beside and renamed into place: the registry never lists a half-written registration.
  const staging = join(modelsDir, `.import-gguf-${process.pid}-${Date.now()}`);
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, GGUF_REGISTRATION), `${JSON.stringify(registration, null, 2)}\n`);
  await rename(staging, join(modelsDir, id));
  return id;
}

/** The GGUF files registered in a models folder: path → model id. */
async function registeredPaths(modelsDir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const name of await readdir(modelsDir).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue;
    const parsed = GgufRegistration.safeParse(await readJsonQuietly(join(modelsDir, name, GGUF_REGISTRATION)));
    if (parsed.success) found.set(parsed.data.path, name);
  }
  return found;
}

async function readJsonQuietly(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}
