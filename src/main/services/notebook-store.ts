import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readdir, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import {
  DuplicateNotebookRequest,
  NotebookFileName,
  RenameNotebookRequest,
  SaveNotebookRequest,
  type NotebookEntry,
  type RemovedNotebook,
} from '../../common/api';
import { boundResults, parseNotebook, serializeNotebook, type NotebookDoc } from '../../common/notebook-format';
import { RequestError, errorMessage } from './request-error';

const SUFFIX = '.ntl.json';
/** The version a save replaced: `<name>.ntl.json.bak`. */
const BACKUP = '.bak';
/** Removed notebooks go here, never to oblivion. */
const TRASH = '.trash';
const PREVIEW_CHARS = 80;

type FileState =
  | { kind: 'missing' }
  | { kind: 'ok'; doc: NotebookDoc; bytes: Buffer }
  | { kind: 'damaged'; reason: string; bytes: Buffer | null };

function code(cause: unknown): string | undefined {
  return cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
}

function isMissing(cause: unknown): boolean {
  return code(cause) === 'ENOENT';
}

/**
 * Notebooks (`*.ntl.json`) in one workspace folder. Every write is atomic (temporary file, fsync,
 * rename); a save keeps the version it replaces as `<name>.ntl.json.bak`; a damaged file is never
 * overwritten unless asked, and removing moves to `<workspace>/.trash/`. Changes run one at a time.
 */
export class NotebookStore {
  readonly dir: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The workspace's real path: names are joined to it, so a link cannot lead a write outside. Null when it does not exist. */
  private async root(create: boolean): Promise<string | null> {
    try {
      if (create) await mkdir(this.dir, { recursive: true });
      return await realpath(this.dir);
    } catch (cause) {
      if (!create && isMissing(cause)) return null;
      throw new Error(`workspace ${this.dir} could not be opened: ${errorMessage(cause)}`);
    }
  }

  private async existingRoot(file: string): Promise<string> {
    const root = await this.root(false);
    if (root === null) throw new RequestError(404, `${file}: no such notebook in ${this.dir}`);
    return root;
  }

  /** What is at `path`: nothing, a valid notebook, or a damaged file and why. Links are not followed. */
  private async inspect(path: string, file: string): Promise<FileState> {
    let bytes: Buffer;
    try {
      const info = await lstat(path);
      if (!info.isFile()) return { kind: 'damaged', reason: info.isSymbolicLink() ? 'a link, not a plain file' : 'not a plain file', bytes: null };
      bytes = await readFile(path);
    } catch (cause) {
      if (isMissing(cause)) return { kind: 'missing' };
      throw new Error(`${file}: could not be read: ${errorMessage(cause)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      return { kind: 'damaged', reason: `damaged, not valid JSON (${errorMessage(cause)})`, bytes };
    }
    try {
      return { kind: 'ok', doc: parseNotebook(json, file), bytes };
    } catch (cause) {
      const message = errorMessage(cause);
      return { kind: 'damaged', reason: message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message, bytes };
    }
  }

  private async entry(root: string, file: string): Promise<NotebookEntry> {
    const path = join(root, file);
    const [state, info] = await Promise.all([this.inspect(path, file), lstat(path)]);
    const doc = state.kind === 'ok' ? state.doc : null;
    return {
      file,
      name: doc?.name || file.slice(0, -SUFFIX.length),
      modelId: doc?.model.id ?? null,
      promptPreview: doc ? doc.prompt.slice(0, PREVIEW_CHARS) : '',
      modifiedMs: info.mtimeMs,
      damaged: state.kind === 'damaged' ? state.reason : null,
    };
  }

  /** The notebooks in the workspace, newest first. A damaged file is listed with the reason; one bad file never fails the list. */
  async list(): Promise<NotebookEntry[]> {
    const root = await this.root(false);
    if (root === null) return [];
    let names: string[];
    try {
      names = await readdir(root);
    } catch (cause) {
      throw new Error(`workspace ${this.dir} could not be read: ${errorMessage(cause)}`);
    }
    const entries: NotebookEntry[] = [];
    for (const file of names) {
      if (!NotebookFileName.safeParse(file).success) continue;
      try {
        const info = await lstat(join(root, file));
        if (info.isDirectory()) continue;
        entries.push(await this.entry(root, file));
      } catch (cause) {
        if (!isMissing(cause)) entries.push({ file, name: file.slice(0, -SUFFIX.length), modelId: null, promptPreview: '', modifiedMs: 0, damaged: errorMessage(cause) });
        // Otherwise it was removed while listing.
      }
    }
    return entries.sort((a, b) => b.modifiedMs - a.modifiedMs || a.file.localeCompare(b.file));
  }

  private async readAt(path: string, file: string, missing: string): Promise<NotebookDoc> {
    const state = await this.inspect(path, file);
    if (state.kind === 'missing') throw new RequestError(404, missing);
    if (state.kind === 'damaged') throw new RequestError(422, `${file}: ${state.reason}`);
    return state.doc;
  }

  /** Reads and validates a notebook (migrating older versions); the error names the file and the cause. */
  async read(file: string): Promise<NotebookDoc> {
    const name = checkFileName(file);
    const root = await this.existingRoot(name);
    return this.readAt(join(root, name), name, `${name}: no such notebook in ${this.dir}`);
  }

  /** The version the last save of `file` replaced. */
  async readBackup(file: string): Promise<NotebookDoc> {
    const name = checkFileName(file);
    const root = await this.existingRoot(name);
    return this.readAt(join(root, name + BACKUP), `${name}${BACKUP}`, `${name}: no backup yet (one is kept once a save replaces the file)`);
  }

  /**
   * Validates and writes a notebook. The file it replaces is first kept as `<file>.bak`; a damaged
   * file is not replaced unless `overwriteDamaged`, and then its bytes go to the trash, not the backup.
   */
  async save(request: unknown): Promise<NotebookEntry> {
    const parsed = SaveNotebookRequest.safeParse(request);
    if (!parsed.success) throw badRequest('cannot save', parsed.error);
    const { file, overwriteDamaged } = parsed.data;
    const text = serializeNotebook(boundResults(parseNotebook(parsed.data.doc, file)));
    return this.exclusive(async () => {
      const root = await this.rootForWrite();
      await removeStaleTemps(root, file);
      const target = join(root, file);
      const previous = await this.inspect(target, file);
      if (previous.kind === 'damaged') {
        if (previous.bytes === null) throw new RequestError(409, `${file}: not saved: ${previous.reason}`);
        if (overwriteDamaged !== true) {
          throw new RequestError(409, `${file}: not saved: the file there is damaged (${previous.reason}); save under another name, or confirm to overwrite it (it goes to the trash)`);
        }
        await this.moveToTrash(root, file, false);
      } else if (previous.kind === 'ok') {
        await writeAtomic(root, file + BACKUP, previous.bytes);
      }
      try {
        await writeAtomic(root, file, text);
      } catch (cause) {
        throw new Error(`${file}: could not be saved: ${errorMessage(cause)}`);
      }
      await syncFolder(root);
      return this.entry(root, file);
    });
  }

  /** Renames a notebook and its backup; refused when `to` exists. */
  async rename(request: unknown): Promise<NotebookEntry> {
    const parsed = RenameNotebookRequest.safeParse(request);
    if (!parsed.success) throw badRequest('cannot rename', parsed.error);
    const { from, to } = parsed.data;
    if (from === to) throw new RequestError(400, `cannot rename ${from} to itself`);
    return this.exclusive(async () => {
      const root = await this.existingRoot(from);
      await this.requirePlainFile(root, from);
      await placeNew(join(root, from), join(root, to), to, true);
      try {
        await rename(join(root, from + BACKUP), join(root, to + BACKUP));
      } catch (cause) {
        if (!isMissing(cause)) throw new Error(`${from}: renamed to ${to}, but its backup could not be: ${errorMessage(cause)}`);
      }
      await syncFolder(root);
      return this.entry(root, to);
    });
  }

  /** Copies a notebook's bytes to a new file name (written atomically); refused when it exists. */
  async duplicate(request: unknown): Promise<NotebookEntry> {
    const parsed = DuplicateNotebookRequest.safeParse(request);
    if (!parsed.success) throw badRequest('cannot duplicate', parsed.error);
    const { file, newName } = parsed.data;
    return this.exclusive(async () => {
      const root = await this.existingRoot(file);
      await this.requirePlainFile(root, file);
      const bytes = await readFile(join(root, file));
      const temp = await writeTemp(root, newName, bytes);
      try {
        await placeNew(temp, join(root, newName), newName, false);
      } finally {
        await unlink(temp).catch(() => undefined);
      }
      await syncFolder(root);
      return this.entry(root, newName);
    });
  }

  /** Moves a notebook (and its backup) to `<workspace>/.trash/`, under a time-stamped name. */
  async remove(file: unknown): Promise<RemovedNotebook> {
    const name = checkFileName(file);
    return this.exclusive(async () => {
      const root = await this.existingRoot(name);
      await this.requirePlainFile(root, name);
      const trashed = await this.moveToTrash(root, name, true);
      await syncFolder(root);
      return { file: name, trashed: `${TRASH}/${trashed}` };
    });
  }

  private async rootForWrite(): Promise<string> {
    const root = await this.root(true);
    if (root === null) throw new Error(`workspace ${this.dir} could not be created`);
    return root;
  }

  private async requirePlainFile(root: string, file: string): Promise<void> {
    let info;
    try {
      info = await lstat(join(root, file));
    } catch (cause) {
      if (isMissing(cause)) throw new RequestError(404, `${file}: no such notebook in ${this.dir}`);
      throw cause;
    }
    if (!info.isFile()) throw new RequestError(403, `${file}: not a plain file (a link or a folder); refused`);
  }

  /** Moves `file` (and its backup, when asked) into the trash folder; returns the name it has there. */
  private async moveToTrash(root: string, file: string, withBackup: boolean): Promise<string> {
    const trash = join(root, TRASH);
    await mkdir(trash, { recursive: true });
    const real = await realpath(trash);
    if (!real.startsWith(root + sep)) throw new RequestError(403, `${TRASH} in the workspace leads outside it (${real}); refused`);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const taken = new Set(await readdir(real));
    let trashed = `${stamp} ${file}`;
    for (let n = 2; taken.has(trashed) || taken.has(trashed + BACKUP); n += 1) trashed = `${stamp} ${n} ${file}`;
    await rename(join(root, file), join(real, trashed));
    if (!withBackup) return trashed;
    try {
      await rename(join(root, file + BACKUP), join(real, trashed + BACKUP));
    } catch (cause) {
      if (!isMissing(cause)) throw cause;
    }
    return trashed;
  }
}

function badRequest(what: string, error: { issues: { path: PropertyKey[]; message: string }[] }): RequestError {
  const issue = error.issues[0];
  return new RequestError(400, `${what}: field "${issue?.path.map(String).join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
}

function checkFileName(file: unknown): string {
  const parsed = NotebookFileName.safeParse(file);
  if (!parsed.success) {
    throw new RequestError(400, `bad notebook file name ${JSON.stringify(file)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    return code(cause) === 'EPERM';
  }
}

/** Temporary files of `file` (and of its backup) left by a process that died mid-save: never listed, but they take space. */
async function removeStaleTemps(root: string, file: string): Promise<void> {
  for (const name of await readdir(root)) {
    const match = TEMP_NAME.exec(name);
    if (!match || (match[1] !== file && match[1] !== file + BACKUP) || isAlive(Number(match[2]))) continue;
    await unlink(join(root, name)).catch(() => undefined);
  }
}

/** Writes a flushed temporary file next to `name` (hidden: a leading dot, so never listed). */
async function writeTemp(root: string, name: string, data: string | Buffer): Promise<string> {
  const temp = join(root, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
  } catch (cause) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw cause;
  }
  return temp;
}

/** Replaces `root/name` atomically: a crash leaves either the old or the new file. */
async function writeAtomic(root: string, name: string, data: string | Buffer): Promise<void> {
  const temp = await writeTemp(root, name, data);
  try {
    await rename(temp, join(root, name));
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw cause;
  }
}

/**
 * Gives `source`'s file the path `target` without ever replacing a file there: a hard link, which
 * fails when the target exists; where links are not possible, a check and a rename.
 */
async function placeNew(source: string, target: string, name: string, removeSource: boolean): Promise<void> {
  try {
    await link(source, target);
    if (removeSource) await unlink(source);
    return;
  } catch (cause) {
    if (code(cause) === 'EEXIST') throw new RequestError(409, `${name} already exists`);
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS'].includes(code(cause) ?? '')) throw cause;
  }
  try {
    await lstat(target);
    throw new RequestError(409, `${name} already exists`);
  } catch (cause) {
    if (!isMissing(cause)) throw cause;
  }
  await rename(source, target);
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
