import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGgufCandidates, ggufFolders } from '../../src/node/gguf-folders';
import { GgufLibrary } from '../../src/node/gguf-library';
import { sha256File } from '../../src/node/gguf-registration';
import { ModelImporter } from '../../src/node/model-import';
import { ModelRegistry } from '../../src/node/model-registry';
import { NotebookStore } from '../../src/node/notebook-store';
import { createServer } from '../../src/server/create-server';
import { ntl, projectRoot, tempDir } from './helpers';

const TWIN = join(projectRoot, 'tests/fixtures/models/gpt2-gguf-twin');
const F32 = join(TWIN, 'gpt2-gguf-twin-f32.gguf');
const Q8 = join(TWIN, 'gpt2-gguf-twin-q8_0.gguf');

/**
 * LM Studio's and Ollama's folders laid out as those apps lay them out, with the twin GGUF files:
 * LM Studio: publisher/model/file.gguf (a vision projector beside it); Ollama: a manifest per
 * NAME/TAG naming its layers by digest, the weights in blobs/sha256-<digest>.
 */
async function appFolders(): Promise<{ lmstudio: string; ollama: string; blob: string; digest: string }> {
  const dir = await tempDir('gguf-apps');
  const lmstudio = join(dir, 'lmstudio');
  await mkdir(join(lmstudio, 'ntl-tests', 'twin-GGUF'), { recursive: true });
  await copyFile(F32, join(lmstudio, 'ntl-tests', 'twin-GGUF', 'twin-F32.gguf'));
  await writeFile(join(lmstudio, 'ntl-tests', 'twin-GGUF', 'mmproj-twin-f16.gguf'), 'GGUF projector, not a language model');
  await writeFile(join(lmstudio, 'ntl-tests', 'twin-GGUF', 'README.md'), 'not a model');

  const ollama = join(dir, 'ollama');
  const digest = await sha256File(Q8);
  const blob = join(ollama, 'blobs', `sha256-${digest}`);
  await mkdir(join(ollama, 'blobs'), { recursive: true });
  await copyFile(Q8, blob);
  const templateDigest = 'a'.repeat(64);
  await writeFile(join(ollama, 'blobs', `sha256-${templateDigest}`), '{{ .Prompt }}');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'b'.repeat(64)}`, size: 10 },
    layers: [
      { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${templateDigest}`, size: 13 },
      { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}`, size: 61248 },
    ],
  };
  for (const tag of ['registry.ollama.ai/library/twin/latest', 'registry.ollama.ai/library/twin/q8_0', 'registry.ollama.ai/someone/other/v1']) {
    await mkdir(join(ollama, 'manifests', ...tag.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(ollama, 'manifests', ...tag.split('/')), JSON.stringify(manifest));
  }
  // A manifest whose blob was removed (ollama rm of the blob only): not offered.
  const gone = { ...manifest, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${'c'.repeat(64)}`, size: 1 }] };
  await mkdir(join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'gone'), { recursive: true });
  await writeFile(join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'gone', 'latest'), JSON.stringify(gone));
  return { lmstudio, ollama, blob, digest };
}

describe("GGUF files in LM Studio's and Ollama's folders", () => {
  it('looks in the apps\' default folders, or where NTL_LMSTUDIO_DIR and NTL_OLLAMA_DIR say', () => {
    expect(ggufFolders({}, '/home/u').map((f) => f.dir)).toEqual(['/home/u/.lmstudio/models', '/home/u/.cache/lm-studio/models', '/home/u/.ollama/models']);
    expect(ggufFolders({ NTL_LMSTUDIO_DIR: '/a', NTL_OLLAMA_DIR: '/b' }, '/home/u').map((f) => f.dir)).toEqual(['/a', '/b']);
  });

  it('finds LM Studio\'s files and Ollama\'s model blobs through their manifests, each file once, skipping projectors and missing blobs', async () => {
    const { lmstudio, ollama, blob } = await appFolders();
    const { files, searched } = await findGgufCandidates({ NTL_LMSTUDIO_DIR: lmstudio, NTL_OLLAMA_DIR: ollama }, '/nonexistent');
    expect(searched).toEqual([
      { origin: 'lmstudio', dir: lmstudio, exists: true },
      { origin: 'ollama', dir: ollama, exists: true },
    ]);
    expect(files).toEqual([
      { path: join(lmstudio, 'ntl-tests', 'twin-GGUF', 'twin-F32.gguf'), name: 'ntl-tests/twin-GGUF/twin-F32.gguf', origin: 'lmstudio', bytes: 199_616 },
      // One blob, three tags: offered once, under the first tag in Ollama's own library.
      { path: blob, name: 'twin:latest', origin: 'ollama', bytes: 61_248 },
    ]);
  });

  it('offers them with their headers, adds one by path and hash (Ollama\'s digest), and refuses a path the scan did not find', async () => {
    const { lmstudio, ollama, blob, digest } = await appFolders();
    const models = await tempDir('gguf-lib-models');
    const registry = new ModelRegistry([{ dir: models, source: 'user' }]);
    const library = new GgufLibrary(models, registry, { NTL_LMSTUDIO_DIR: lmstudio, NTL_OLLAMA_DIR: ollama }, '/nonexistent');
    const before = await library.found();
    expect(before.files.map((f) => [f.name, f.architecture, f.fileType, f.parameters, f.registeredAs, f.problem])).toEqual([
      ['ntl-tests/twin-GGUF/twin-F32.gguf', 'gpt2', 'F32', 48_000, null, null],
      ['twin:latest', 'gpt2', 'Q8_0', 48_000, null, null],
    ]);
    const info = await library.addFound(blob);
    expect(info).toMatchObject({ id: 'twin-latest', name: 'twin:latest', format: 'gguf', path: blob, sha256: digest, precision: 'Q8_0' });
    expect(info.gguf?.origin).toBe('ollama');
    expect((await library.found()).files.map((f) => f.registeredAs)).toEqual([null, 'twin-latest']);
    await expect(library.addFound(F32)).rejects.toThrow(`${F32} is not a GGUF file found in LM Studio's or Ollama's models folder`);
  });

  it('the browser build\'s serve process lists them at /api/gguf and adds one on POST, a found path only', async () => {
    const { lmstudio, ollama } = await appFolders();
    const models = await tempDir('gguf-serve-models');
    const registry = new ModelRegistry([{ dir: models, source: 'user' }]);
    const server = createServer({
      rendererDir: await tempDir('gguf-renderer'),
      registry,
      importer: new ModelImporter(models, registry),
      gguf: new GgufLibrary(models, registry, { NTL_LMSTUDIO_DIR: lmstudio, NTL_OLLAMA_DIR: ollama }, '/nonexistent'),
      store: new NotebookStore(await tempDir('gguf-workspace')),
    });
    const base = `http://127.0.0.1:${await server.listen(0)}`;
    try {
      const found = (await (await fetch(`${base}/api/gguf`)).json()) as { files: { path: string; name: string }[] };
      const lm = found.files.find((f) => f.name === 'ntl-tests/twin-GGUF/twin-F32.gguf');
      expect(lm).toBeDefined();
      const post = (path: string): Promise<Response> => fetch(`${base}/api/gguf`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path }) });
      const added = await post(lm!.path);
      expect(added.status).toBe(200);
      const info = (await added.json()) as Record<string, unknown>;
      expect(info).toMatchObject({ id: 'ntl-tests-twin-GGUF-twin-F32', format: 'gguf', precision: 'F32', layers: 2 });
      // The page is not told where the file is (the panel's found list says it), and cannot name another file.
      expect(info['path']).toBeUndefined();
      const refused = await post('/etc/passwd');
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ error: "/etc/passwd is not a GGUF file found in LM Studio's or Ollama's models folder" });
      const listed = (await (await fetch(`${base}/api/models`)).json()) as { models: { id: string; format: string }[] };
      expect(listed.models).toEqual([expect.objectContaining({ id: 'ntl-tests-twin-GGUF-twin-F32', format: 'gguf' })]);
    } finally {
      await server.close();
    }
  });

  it('`ntl models` lists what it found and how to add it', async () => {
    const { lmstudio, ollama, blob } = await appFolders();
    const models = await tempDir('gguf-ntl-found');
    Object.assign(process.env, { NTL_LMSTUDIO_DIR: lmstudio, NTL_OLLAMA_DIR: ollama, NTL_MODELS_DIR: models });
    try {
      const run = await ntl('models');
      expect(run.stdout).toContain("GGUF files found in LM Studio's and Ollama's folders (add one with ntl import PATH):");
      expect(run.stdout).toContain(`  ollama twin:latest: gpt2, Q8_0, 48000 parameters, 61248 bytes, ${blob}`);
      const json = JSON.parse((await ntl('models', '--json')).stdout);
      expect(json.gguf_found.map((f: { name: string }) => f.name)).toEqual(['ntl-tests/twin-GGUF/twin-F32.gguf', 'twin:latest']);
    } finally {
      for (const key of ['NTL_LMSTUDIO_DIR', 'NTL_OLLAMA_DIR', 'NTL_MODELS_DIR']) delete process.env[key];
    }
  }, 120_000);
});
