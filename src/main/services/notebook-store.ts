import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NotebookFileName, SaveNotebookRequest, type NotebookEntry } from '../../common/api';
import { parseNotebook, type NotebookDoc } from '../../common/notebook-format';
import { RequestError, errorMessage } from './request-error';

const SUFFIX = '.ntl.json';

function isMissing(cause: unknown): boolean {
  return cause instanceof Error && 'code' in cause && cause.code === 'ENOENT';
}

/** Notebooks (`*.ntl.json`) in one workspace folder: listed, read and saved atomically. */
export class NotebookStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The notebooks in the workspace, newest first. A damaged file is listed under its file name. */
  async list(): Promise<NotebookEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (cause) {
      if (isMissing(cause)) return [];
      throw new Error(`workspace ${this.dir} could not be read: ${errorMessage(cause)}`);
    }
    const entries: NotebookEntry[] = [];
    for (const file of names) {
      if (!NotebookFileName.safeParse(file).success) continue;
      try {
        const info = await stat(join(this.dir, file));
        if (!info.isFile()) continue;
        entries.push({ file, name: await this.nameOf(file), modifiedMs: info.mtimeMs });
      } catch {
        // Removed while listing.
      }
    }
    return entries.sort((a, b) => b.modifiedMs - a.modifiedMs || a.file.localeCompare(b.file));
  }

  private async nameOf(file: string): Promise<string> {
    try {
      const json: unknown = JSON.parse(await readFile(join(this.dir, file), 'utf8'));
      if (json !== null && typeof json === 'object' && 'name' in json && typeof json.name === 'string' && json.name) return json.name;
    } catch {
      // A damaged file is still listed; reading it says what is wrong.
    }
    return file.slice(0, -SUFFIX.length);
  }

  /** Reads and validates a notebook; the error names the file and the cause. */
  async read(file: string): Promise<NotebookDoc> {
    const name = checkFileName(file);
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch (cause) {
      if (isMissing(cause)) throw new RequestError(404, `${name}: no such notebook in ${this.dir}`);
      throw new Error(`${name}: could not be read: ${errorMessage(cause)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new RequestError(422, `${name}: damaged, not valid JSON (${errorMessage(cause)})`);
    }
    try {
      return parseNotebook(json, name);
    } catch (cause) {
      throw new RequestError(422, `${errorMessage(cause)} (the notebook is damaged or from a newer version)`);
    }
  }

  /**
   * Validates and writes a notebook atomically: a temporary file in the same folder, flushed to
   * disk, then renamed over the old one, so a crash leaves either the old or the new file.
   */
  async save(request: unknown): Promise<NotebookEntry> {
    const parsed = SaveNotebookRequest.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RequestError(400, `cannot save: field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
    }
    const { file, doc } = parsed.data;
    parseNotebook(doc, file);
    await mkdir(this.dir, { recursive: true });
    const target = join(this.dir, file);
    const temp = join(this.dir, `.${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
      await handle.sync();
      await handle.close();
      await rename(temp, target);
    } catch (cause) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw new Error(`${file}: could not be saved: ${errorMessage(cause)}`);
    }
    await syncFolder(this.dir);
    const info = await stat(target);
    return { file, name: doc.name || file.slice(0, -SUFFIX.length), modifiedMs: info.mtimeMs };
  }
}

function checkFileName(file: unknown): string {
  const parsed = NotebookFileName.safeParse(file);
  if (!parsed.success) {
    throw new RequestError(400, `bad notebook file name ${JSON.stringify(file)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Makes the rename itself durable; not possible on every platform (Windows), so best effort. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Folders cannot be opened for fsync on Windows.
  }
}
