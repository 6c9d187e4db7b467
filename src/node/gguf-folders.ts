import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { FoundGguf, FoundGgufList } from '../common/gguf-found';

/** A GGUF file found in another app's models folder, before its header is read. */
export interface GgufCandidate {
  path: string;
  name: string;
  origin: FoundGguf['origin'];
  bytes: number;
}

/**
 * The folders other apps keep GGUF models in: LM Studio's (`~/.lmstudio/models`, older versions
 * `~/.cache/lm-studio/models`) and Ollama's (`~/.ollama/models`); `NTL_LMSTUDIO_DIR` and
 * `NTL_OLLAMA_DIR` replace them (tests, or a folder moved elsewhere).
 */
export function ggufFolders(env: NodeJS.ProcessEnv = process.env, home = homedir()): FoundGgufList['searched'] {
  const lmstudio = env['NTL_LMSTUDIO_DIR'] ? [env['NTL_LMSTUDIO_DIR']] : [join(home, '.lmstudio', 'models'), join(home, '.cache', 'lm-studio', 'models')];
  const ollama = env['NTL_OLLAMA_DIR'] || env['OLLAMA_MODELS'] || join(home, '.ollama', 'models');
  return [...lmstudio.map((dir) => ({ origin: 'lmstudio' as const, dir, exists: false })), { origin: 'ollama' as const, dir: ollama, exists: false }];
}

const isDir = (path: string): Promise<boolean> => stat(path).then((s) => s.isDirectory(), () => false);

/** LM Studio keeps publisher/model/file.gguf; vision projectors (mmproj-*.gguf) are not language models. */
async function scanLmStudio(root: string, found: GgufCandidate[], dir = root, depth = 0): Promise<void> {
  if (depth > 4) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await scanLmStudio(root, found, path, depth + 1);
    else if (entry.isFile() && /\.gguf$/i.test(entry.name) && !/^mmproj/i.test(entry.name)) {
      found.push({ path, name: relative(root, path).split(sep).join('/'), origin: 'lmstudio', bytes: (await stat(path)).size });
    }
  }
}

const OllamaManifest = z.object({
  layers: z.array(z.object({ mediaType: z.string(), digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), size: z.number().optional() })),
});
const OLLAMA_MODEL_LAYER = 'application/vnd.ollama.image.model';
const OLLAMA_LIBRARY = ['registry.ollama.ai', 'library'];

/**
 * Ollama keeps each model as a manifest, `manifests/<host>/<namespace>/<name>/<tag>`, naming its
 * layers by digest; the weights are the layer of type `application/vnd.ollama.image.model`, a GGUF
 * file at `blobs/sha256-<hex>`. Shown as Ollama names them: NAME:TAG for its own library.
 */
async function scanOllama(root: string, found: GgufCandidate[]): Promise<void> {
  const manifests = join(root, 'manifests');
  const walk = async (dir: string, parts: string[]): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory() && parts.length < 3) await walk(path, [...parts, entry.name]);
      else if (entry.isFile() && parts.length === 3) {
        const parsed = OllamaManifest.safeParse(await readFile(path, 'utf8').then((t) => JSON.parse(t) as unknown, () => null));
        const layer = parsed.success ? parsed.data.layers.find((l) => l.mediaType === OLLAMA_MODEL_LAYER) : undefined;
        if (!layer) continue;
        const blob = join(root, 'blobs', layer.digest.replace(':', '-'));
        const size = await stat(blob).then((s) => (s.isFile() ? s.size : null), () => null);
        if (size === null) continue;
        const [host, namespace, name] = parts;
        const prefix = host === OLLAMA_LIBRARY[0] && namespace === OLLAMA_LIBRARY[1] ? '' : host === OLLAMA_LIBRARY[0] ? `${namespace}/` : `${host}/${namespace}/`;
        found.push({ path: blob, name: `${prefix}${name}:${entry.name}`, origin: 'ollama', bytes: size });
      }
    }
  };
  await walk(manifests, []);
}

/** The GGUF files in LM Studio's and Ollama's folders (one entry per file: an Ollama blob named by two tags is listed once). */
export async function findGgufCandidates(env: NodeJS.ProcessEnv = process.env, home = homedir()): Promise<{ files: GgufCandidate[]; searched: FoundGgufList['searched'] }> {
  const searched = ggufFolders(env, home);
  const files: GgufCandidate[] = [];
  for (const folder of searched) {
    folder.exists = await isDir(folder.dir);
    if (!folder.exists) continue;
    if (folder.origin === 'lmstudio') await scanLmStudio(folder.dir, files);
    else await scanOllama(folder.dir, files);
  }
  const seen = new Set<string>();
  return { files: files.filter((f) => (seen.has(f.path) ? false : (seen.add(f.path), true))), searched };
}
