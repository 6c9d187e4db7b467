import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { ImportBegin, ImportChunk, ImportToken, MODEL_JSON_FILES, modelIdFrom, planImport, type ImportFile } from '../common/model-import';
import { describeIssue } from '../common/issue-words';
import type { ModelInfo } from '../common/model-info';
import type { ModelRegistry } from './model-registry';
import { verifyModelFolder } from './model-verify';
import { RequestError, errorMessage } from './request-error';

/** Staging folders start with this; the registry skips dot-folders, so they are never listed. */
const STAGING_PREFIX = '.import-';

interface Upload {
  name: string;
  folder: string;
  files: Map<string, { size: number; written: number }>;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestError(400, describeIssue(what, parsed.error, value));
  return parsed.data;
}

/**
 * Adds model folders to the user's models folder. A model is assembled in a hidden staging folder
 * beside the others, validated there with every check the registry makes and run once in a real
 * session (`verifyModelFolder`), and only then renamed
 * into place (one atomic step); on any failure the staging folder is removed. So the models folder
 * never holds a half-imported model, and the registry never lists one.
 *
 * Two ways in: `importFolder` copies from a folder on disk (the `ntl import` command), and
 * `begin`/`write`/`commit` receive the files from the renderer (a folder picked or dropped there).
 */
export class ModelImporter {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly modelsDir: string,
    private readonly registry: ModelRegistry,
    /** Runs the staged model before it is accepted (a real session, predict, attention, cached steps). */
    private readonly verify: (info: ModelInfo, shownAs: string) => Promise<unknown> = verifyModelFolder,
  ) {}

  /** Removes staging folders left behind by an import that was interrupted (the app was closed). */
  async removeStale(): Promise<void> {
    const names = await readdir(this.modelsDir).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith(STAGING_PREFIX) && ![...this.uploads.values()].some((u) => basename(u.folder) === name)) {
        await rm(join(this.modelsDir, name), { recursive: true, force: true });
      }
    }
  }

  /** Validates the folder where it is, then copies its model files in. */
  async importFolder(source: string): Promise<ModelInfo> {
    const folder = resolve(source);
    const entry = await lstat(folder).catch(() => null);
    if (!entry) throw new RequestError(404, `${folder} does not exist`);
    if (entry.isSymbolicLink()) {
      const target = await readlink(folder).catch(() => '?');
      throw new RequestError(400, `${folder} is a symbolic link to ${target}; import the folder itself, not a link to it`);
    }
    if (!entry.isDirectory()) throw new RequestError(400, `${folder} is not a folder`);
    let info: ModelInfo;
    try {
      info = await this.registry.inspect(folder);
    } catch (cause) {
      throw new RequestError(422, errorMessage(cause));
    }
    const files = [...MODEL_JSON_FILES, info.files.onnx, info.files.onnxWithPast, ...info.files.onnxData];
    const staging = await this.createStaging();
    try {
      for (const file of files) {
        if (!file) continue;
        const from = join(folder, file);
        if (!(await stat(from).then((s) => s.isFile(), () => false))) continue;
        await mkdir(dirname(join(staging, file)), { recursive: true });
        await copyFile(from, join(staging, file), constants.COPYFILE_EXCL);
      }
      return await this.publish(staging, basename(folder), folder);
    } catch (cause) {
      await rm(staging, { recursive: true, force: true });
      throw cause;
    }
  }

  /** Starts an upload: checks the file list and sizes before any byte is sent. */
  async begin(request: unknown): Promise<{ token: string }> {
    const { name, files } = parse(ImportBegin, request, 'import');
    let plan;
    try {
      plan = planImport(name, files);
    } catch (cause) {
      throw new RequestError(422, errorMessage(cause));
    }
    const extra = files.filter((f) => !plan.files.some((p) => p.path === f.path));
    if (extra.length > 0) throw new RequestError(400, `import: ${extra.map((f) => f.path).join(', ')} is not a file of a model folder`);
    const folder = await this.createStaging();
    const token = basename(folder).slice(STAGING_PREFIX.length);
    this.uploads.set(token, { name, folder, files: new Map(plan.files.map((f: ImportFile) => [f.path, { size: f.size, written: 0 }])) });
    return { token };
  }

  /** Writes the next piece of one file of an upload; pieces arrive in order. */
  async write(chunk: unknown): Promise<void> {
    const { token, file, offset, data } = parse(ImportChunk, chunk, 'import');
    const upload = this.upload(token);
    const entry = upload.files.get(file);
    if (!entry) throw new RequestError(400, `import: ${file} was not announced when the import began`);
    if (offset !== entry.written) throw new RequestError(400, `import: ${file}: expected the piece at byte ${entry.written}, got one at ${offset}`);
    if (entry.written + data.byteLength > entry.size) throw new RequestError(400, `import: ${file} is larger than the ${entry.size} bytes announced`);
    const path = join(upload.folder, file);
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, offset === 0 ? 'w' : 'r+');
    try {
      await handle.write(data, 0, data.byteLength, offset);
    } finally {
      await handle.close();
    }
    entry.written += data.byteLength;
  }

  /** Validates the uploaded folder and moves it into the models folder. */
  async commit(token: unknown): Promise<ModelInfo> {
    const parsed = parse(ImportToken, token, 'import');
    const upload = this.upload(parsed);
    this.uploads.delete(parsed);
    try {
      for (const [file, entry] of upload.files) {
        if (entry.written !== entry.size) throw new RequestError(400, `import: ${upload.name}/${file} arrived incomplete (${entry.written} of ${entry.size} bytes)`);
      }
      return await this.publish(upload.folder, upload.name, upload.name);
    } catch (cause) {
      await rm(upload.folder, { recursive: true, force: true });
      throw cause;
    }
  }

  /** Drops an upload and everything it wrote. */
  async abort(token: unknown): Promise<void> {
    const parsed = parse(ImportToken, token, 'import');
    const upload = this.uploads.get(parsed);
    this.uploads.delete(parsed);
    if (upload) await rm(upload.folder, { recursive: true, force: true });
  }

  private upload(token: string): Upload {
    const upload = this.uploads.get(token);
    if (!upload) throw new RequestError(404, `import ${token} is not in progress (finished, cancelled or unknown)`);
    return upload;
  }

  private async createStaging(): Promise<string> {
    await mkdir(this.modelsDir, { recursive: true });
    const folder = join(this.modelsDir, `${STAGING_PREFIX}${randomUUID()}`);
    await mkdir(folder);
    return folder;
  }

  /** An id not taken by any model the registry lists (bundled or user): `name`, `name-2`, ... */
  private async freeId(base: string): Promise<string> {
    const taken = new Set((await this.registry.list()).models.map((m) => m.id));
    const names = new Set(await readdir(this.modelsDir).catch(() => [] as string[]));
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base}-${n}`;
      if (!taken.has(id) && !names.has(id)) return id;
    }
  }

  /** Validates a staged folder (messages name the user's folder) and renames it into place. */
  private async publish(staging: string, name: string, shownAs: string): Promise<ModelInfo> {
    try {
      const info = await this.registry.inspect(staging, shownAs);
      // Proven to run, not only to parse: a file that loads but cannot compute is refused here.
      await this.verify(info, shownAs);
    } catch (cause) {
      throw new RequestError(422, errorMessage(cause));
    }
    const id = await this.freeId(modelIdFrom(name));
    await rename(staging, join(this.modelsDir, id));
    return this.registry.resolve(id);
  }
}
