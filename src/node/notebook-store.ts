import { lstat, mkdir, readdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import {
  DraftRequest,
  NotebookFileName,
  ReadNotebookRequest,
  RenameNotebookRequest,
  SaveNotebookRequest,
  type DraftEntry,
  type NotebookCopy,
  type NotebookEntry,
} from '../common/api';
import { boundResults, formatNotebook, notebookFileName, notebookSizeProblem, parseNotebook, type NotebookDoc } from '../common/notebook-format';
import { NODE_IO, fileCause, removeStaleTemps, writeFileAtomic, type SaveIo } from './atomic-write';
import { badRequest, checkFileName, isMissing, parseText, previewOf, SUFFIX, type Parsed } from './notebook-file-checks';
import { RecentNotebooks } from './recent-notebooks';
import { RequestError, errorMessage } from './request-error';

export interface NotebookStoreOptions {
  /** Moves a file to the system trash (Electron's shell.trashItem); without it, or when it fails, to the workspace's `.trash` folder. */
  trash?: (path: string) => Promise<void>;
  /** The file operations saves make (Node's by default); tests simulate a full disk or a read-only folder with it. */
  io?: SaveIo;
  /** The guided tour notebook the app ships, put into a workspace the first time the app opens it. */
  tour?: string;
}

/** The name the guided tour gets in a workspace. */
export const TOUR_FILE = 'Guided tour.ntl.json';

/**
 * Notebooks (`*.ntl.json`) in one workspace folder: listed with a preview, read, saved atomically
 * with a backup of the previous version, renamed, duplicated, moved to the trash, and unsaved
 * drafts kept for recovery. Damaged files are listed with the reason and never overwritten.
 * Every name is checked: nothing is read or written outside the folder.
 *
 * Beside the notebooks: `.backups/` (the version before the last save), `.autosave/` (drafts of
 * unsaved changes), `.trash/` (removed notebooks, where there is no system trash), `.recent.json`.
 */
export class NotebookStore {
  readonly dir: string;
  private readonly trash: ((path: string) => Promise<void>) | undefined;
  private readonly io: SaveIo;
  private readonly cache = new Map<string, { mtimeMs: number; size: number; entry: NotebookEntry }>();
  /** Writes to one file, in the order they were asked for. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly recentFiles: RecentNotebooks;
  private hasCleaned = false;

  constructor(dir: string, options: NotebookStoreOptions = {}) {
    this.dir = resolve(dir);
    this.trash = options.trash;
    this.io = options.io ?? NODE_IO;
    this.tour = options.tour ?? null;
    this.recentFiles = new RecentNotebooks(this.dir, this.io, (file, work) => this.serial(file, work));
  }

  private readonly tour: string | null;

  /**
   * The first time the app opens this workspace: puts the guided tour in it (unless a notebook of
   * that name is there) and returns its file name, for the window to open; afterwards null. A
   * `.welcome` file in the workspace remembers that it was offered.
   */
  async firstRun(): Promise<string | null> {
    const marker = join(this.dir, '.welcome');
    if (await this.exists(marker)) return null;
    await this.makeFolder(this.dir, '.welcome');
    await writeFileAtomic(this.dir, '.welcome', `${new Date().toISOString()}\n`, { io: this.io });
    if (this.tour === null) return null;
    if (!(await this.exists(join(this.dir, TOUR_FILE)))) {
      const doc = parseNotebook(JSON.parse(await readFile(this.tour, 'utf8')), this.tour);
      await this.serial(TOUR_FILE, () => writeFileAtomic(this.dir, TOUR_FILE, formatNotebook(doc), { io: this.io }));
    }
    return TOUR_FILE;
  }

  /**
   * The text of a notebook file, refused without reading it when it is larger than a notebook can
   * be, or when it is a link that leads outside the workspace (a file someone sent may be one).
   */
  private async readText(path: string, label: string): Promise<string> {
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      const [real, root] = await Promise.all([realpath(path), realpath(this.dir)]);
      const rel = relative(root, real);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
        throw new RequestError(403, `${label}: refused: it is a link to ${real}, outside the workspace ${this.dir}`);
      }
    }
    const size = info.isSymbolicLink() ? (await stat(path)).size : info.size;
    const tooLarge = notebookSizeProblem(label, size);
    if (tooLarge !== null) throw new RequestError(413, tooLarge);
    return readFile(path, 'utf8');
  }

  private get backupDir(): string {
    return join(this.dir, '.backups');
  }
  private get draftDir(): string {
    return join(this.dir, '.autosave');
  }

  private serial<T>(file: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(file) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.queues.set(file, next);
    void next.finally(() => {
      if (this.queues.get(file) === next) this.queues.delete(file);
    }).catch(() => undefined);
    return next;
  }

  /** The notebooks in the workspace, newest first; damaged ones too, with the reason. */
  async list(): Promise<NotebookEntry[]> {
    if (!this.hasCleaned) {
      this.hasCleaned = true;
      await removeStaleTemps(this.dir);
      await removeStaleTemps(this.backupDir);
      await removeStaleTemps(this.draftDir);
    }
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (cause) {
      if (isMissing(cause)) return [];
      throw new Error(`workspace ${this.dir} could not be read: ${errorMessage(cause)}`);
    }
    const backups = new Set(await readdir(this.backupDir).catch(() => []));
    const files = names.filter((file) => NotebookFileName.safeParse(file).success);
    const entries: NotebookEntry[] = [];
    // A few reads at a time: quick for a thousand notebooks without opening them all at once.
    for (let i = 0; i < files.length; i += 32) {
      const batch = await Promise.all(files.slice(i, i + 32).map((file) => this.entry(file, backups.has(file))));
      for (const entry of batch) if (entry) entries.push(entry);
    }
    for (const file of this.cache.keys()) if (!files.includes(file)) this.cache.delete(file);
    return entries.sort((a, b) => b.modifiedMs - a.modifiedMs || a.file.localeCompare(b.file));
  }

  private async entry(file: string, hasBackup: boolean): Promise<NotebookEntry | null> {
    try {
      const info = await stat(join(this.dir, file));
      if (!info.isFile()) return null;
      const cached = this.cache.get(file);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return { ...cached.entry, hasBackup };
      let parsed: Parsed;
      try {
        parsed = parseText(file, await this.readText(join(this.dir, file), file));
      } catch (cause) {
        if (!(cause instanceof RequestError)) throw cause;
        parsed = { ok: false, reason: cause.message };
      }
      const base = { file, modifiedMs: info.mtimeMs, bytes: info.size, hasBackup };
      const entry: NotebookEntry = parsed.ok
        ? { ...base, name: parsed.doc.name || file.slice(0, -SUFFIX.length), model: parsed.doc.model.id, preview: previewOf(parsed.doc), cells: parsed.doc.cells.length, damaged: null }
        : { ...base, name: file.slice(0, -SUFFIX.length), model: null, preview: '', cells: 0, damaged: parsed.reason };
      this.cache.set(file, { mtimeMs: info.mtimeMs, size: info.size, entry });
      return entry;
    } catch {
      return null; // Removed while listing.
    }
  }

  private folderOf(copy: NotebookCopy): string {
    return copy === 'backup' ? this.backupDir : copy === 'draft' ? this.draftDir : this.dir;
  }

  /** Reads and validates a notebook (or its backup or draft); the error names the file and the cause. */
  async read(file: unknown, copy: unknown = 'file'): Promise<NotebookDoc> {
    const parsed = ReadNotebookRequest.safeParse({ file, copy });
    if (!parsed.success) {
      if (parsed.error.issues[0]?.path[0] === 'file') checkFileName(file);
      throw badRequest('cannot read', parsed.error);
    }
    const name = parsed.data.file;
    const which = parsed.data.copy;
    const label = which === 'file' ? name : `${name} (${which})`;
    let text: string;
    try {
      text = await this.readText(join(this.folderOf(which), name), label);
    } catch (cause) {
      if (cause instanceof RequestError) throw cause;
      if (isMissing(cause)) throw new RequestError(404, which === 'file' ? `${name}: no such notebook in ${this.dir}` : `${name}: there is no ${which} of it`);
      throw new Error(`${label}: could not be read: ${errorMessage(cause)}`);
    }
    const result = parseText(label, text);
    if (!result.ok) {
      const hint = which === 'file' && (await this.exists(join(this.backupDir, name))) ? '; its backup can be opened' : '';
      throw new RequestError(422, `${result.reason}${hint}`);
    }
    if (which === 'file') await this.recentFiles.touch(name);
    // A file written elsewhere may carry more cached results than the app keeps: never hand them on.
    return boundResults(result.doc).doc;
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  }

  /** Why the file at `name` may not be replaced: it is damaged (so it is kept for the user to look at). */
  private async damagedReason(name: string): Promise<string | null> {
    let text: string;
    try {
      text = await this.readText(join(this.dir, name), name);
    } catch (cause) {
      if (isMissing(cause)) return null;
      if (cause instanceof RequestError) return cause.message;
      throw cause;
    }
    const parsed = parseText(name, text);
    return parsed.ok ? null : parsed.reason;
  }

  /**
   * Validates and writes a notebook atomically, keeping the previous version as a backup; removes
   * the draft of unsaved changes it replaces. A damaged file is never overwritten; with `create`,
   * no existing file is.
   */
  async save(request: unknown): Promise<NotebookEntry> {
    const parsed = SaveNotebookRequest.safeParse(request);
    if (!parsed.success) throw badRequest('cannot save', parsed.error);
    if (parsed.data.create === 'free-name') return this.saveUnderFreeName(parsed.data.file, parsed.data.doc);
    const { file, create } = parsed.data;
    const doc = boundResults(parseNotebook(parsed.data.doc, file)).doc;
    return this.serial(file, async () => {
      await this.makeFolder(this.dir, file);
      if (create && (await this.exists(join(this.dir, file)))) throw new RequestError(409, `${file} already exists in the workspace: choose another name`);
      const damaged = await this.damagedReason(file);
      if (damaged !== null) {
        throw new RequestError(409, `${file} is damaged and is not overwritten (${damaged}); save under another name, or open its backup`);
      }
      await writeFileAtomic(this.dir, file, formatNotebook(doc), { backupDir: this.backupDir, io: this.io });
      await unlink(join(this.draftDir, file)).catch(() => undefined);
      await this.recentFiles.touch(file);
      const entry = await this.entry(file, await this.exists(join(this.backupDir, file)));
      if (!entry) throw new Error(`${file}: saved, then could not be found`);
      return entry;
    });
  }

  private async makeFolder(path: string, file: string): Promise<void> {
    try {
      await this.io.mkdir(path);
    } catch (cause) {
      throw new Error(`${file}: could not be saved: the folder ${path} could not be created: ${fileCause(cause)}`);
    }
  }

  /**
   * Saves into the first free file name after `file`'s stem; a name taken meanwhile (another window)
   * moves on to the next. A notebook named as the taken file is (the second "Untitled") takes the
   * free file's name ("Untitled 2"), so the sidebar and Recent never show two alike.
   */
  private async saveUnderFreeName(file: string, doc: unknown): Promise<NotebookEntry> {
    const stem = file.slice(0, -SUFFIX.length);
    const named = typeof doc === 'object' && doc !== null && 'name' in doc && typeof doc.name === 'string' ? { ...doc, name: doc.name } : null;
    for (let attempt = 0; attempt < 20; attempt++) {
      const free = await this.freeFileName(stem);
      const renamed = named !== null && free !== file && notebookFileName(named.name) === file ? { ...named, name: free.slice(0, -SUFFIX.length) } : doc;
      try {
        return await this.save({ file: free, doc: renamed, create: true });
      } catch (cause) {
        if (!(cause instanceof RequestError && cause.status === 409 && (await this.exists(join(this.dir, free))))) throw cause;
      }
    }
    throw new RequestError(409, `no free file name for "${stem}" in the workspace`);
  }

  /** A free file name for `name`: `name.ntl.json`, else `name 2.ntl.json`, `name 3.ntl.json`... */
  async freeFileName(name: string): Promise<string> {
    const first = notebookFileName(name);
    const stem = first.slice(0, -SUFFIX.length);
    for (let n = 1; n < 10_000; n++) {
      const candidate = n === 1 ? first : `${stem.slice(0, 74)} ${n}${SUFFIX}`;
      if (!(await this.exists(join(this.dir, candidate)))) return candidate;
    }
    throw new RequestError(409, `no free file name for "${name}"`);
  }

  /** Gives a notebook a new name, and the file the name derives from. */
  async rename(request: unknown): Promise<NotebookEntry> {
    const parsed = RenameNotebookRequest.safeParse(request);
    if (!parsed.success) throw badRequest('cannot rename', parsed.error);
    const { file, name } = parsed.data;
    const doc = await this.read(file);
    const target = notebookFileName(name);
    if (target === file) return this.save({ file, doc: { ...doc, name } });
    if (await this.exists(join(this.dir, target))) throw new RequestError(409, `cannot rename ${file} to "${name}": ${target} already exists`);
    const entry = await this.save({ file: target, doc: { ...doc, name }, create: true });
    await this.serial(file, async () => {
      await unlink(join(this.dir, file));
      await unlink(join(this.draftDir, file)).catch(() => undefined);
      await rename(join(this.backupDir, file), join(this.backupDir, target)).catch(() => undefined);
    });
    await this.recentFiles.forget(file);
    return entry;
  }

  /** Copies a notebook under "<name> copy" (a free file name). */
  async duplicate(file: unknown): Promise<NotebookEntry> {
    const doc = await this.read(checkFileName(file));
    const name = `${doc.name} copy`;
    return this.save({ file: await this.freeFileName(name), doc: { ...doc, name }, create: true });
  }

  /** Moves a notebook to the trash; a damaged one too. */
  async remove(file: unknown): Promise<void> {
    const name = checkFileName(file);
    const path = join(this.dir, name);
    if (!(await this.exists(path))) throw new RequestError(404, `${name}: no such notebook in ${this.dir}`);
    await this.serial(name, async () => {
      // Where the system trash fails (no trash on that file system, a network drive), the
      // workspace's own `.trash` folder keeps the file: removing never loses it outright.
      const isTrashed = this.trash ? await this.trash(path).then(() => true, () => false) : false;
      if (!isTrashed) {
        const trashDir = join(this.dir, '.trash');
        await mkdir(trashDir, { recursive: true });
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        await rename(path, join(trashDir, `${stamp} ${name}`));
      }
      await unlink(join(this.draftDir, name)).catch(() => undefined);
    });
    this.cache.delete(name);
    await this.recentFiles.forget(name);
  }

  /** Recently opened or saved notebooks that still exist, most recent first. */
  async recent(): Promise<string[]> {
    const files = await this.recentFiles.load();
    const existing: string[] = [];
    for (const file of files) if (await this.exists(join(this.dir, file))) existing.push(file);
    return existing;
  }

  /** Keeps unsaved changes to `file` where a crash cannot lose them; `save` removes the draft. */
  async saveDraft(request: unknown): Promise<void> {
    const parsed = DraftRequest.safeParse(request);
    if (!parsed.success) throw badRequest('cannot keep the draft', parsed.error);
    const { file } = parsed.data;
    const doc = boundResults(parseNotebook(parsed.data.doc, file)).doc;
    await this.serial(file, async () => {
      await this.makeFolder(this.draftDir, file);
      await writeFileAtomic(this.draftDir, file, formatNotebook(doc), { io: this.io });
    });
  }

  /** Drafts of unsaved changes, left by a session that ended before it saved them. */
  async drafts(): Promise<DraftEntry[]> {
    const names = await readdir(this.draftDir).catch(() => []);
    const drafts: DraftEntry[] = [];
    for (const file of names) {
      if (!NotebookFileName.safeParse(file).success) continue;
      const parsed = parseText(file, await this.readText(join(this.draftDir, file), file).catch(() => ''));
      if (parsed.ok) drafts.push({ file, name: parsed.doc.name, savedAt: parsed.doc.savedAt });
    }
    return drafts.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
  }

  async discardDraft(file: unknown): Promise<void> {
    const name = checkFileName(file);
    await this.serial(name, () => unlink(join(this.draftDir, name)).catch(() => undefined));
  }
}
