import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotebookFileName } from '../common/api';
import { writeFileAtomic, type SaveIo } from './atomic-write';

const MAX_RECENT = 10;

/**
 * The workspace's recently opened or saved notebooks, most recent first, kept in `.recent.json`: a
 * convenience, so a missing or damaged list is an empty one and a failed write is not an error.
 */
export class RecentNotebooks {
  private files: string[] | null = null;

  constructor(
    private readonly dir: string,
    private readonly io: SaveIo,
    /** The store's queue of writes per file, so two writes of the list never interleave. */
    private readonly serial: <T>(file: string, work: () => Promise<T>) => Promise<T>,
  ) {}

  async load(): Promise<string[]> {
    if (this.files) return this.files;
    try {
      const json: unknown = JSON.parse(await readFile(join(this.dir, '.recent.json'), 'utf8'));
      this.files = Array.isArray(json) ? json.filter((f): f is string => NotebookFileName.safeParse(f).success).slice(0, MAX_RECENT) : [];
    } catch {
      this.files = []; // None yet, or damaged: recent files are a convenience.
    }
    return this.files;
  }

  private async store(files: string[]): Promise<void> {
    this.files = files;
    // Through the injected file layer, like every other write of the store.
    await this.io.mkdir(this.dir);
    await this.serial('.recent.json', () => writeFileAtomic(this.dir, '.recent.json', `${JSON.stringify(files, null, 2)}\n`, { io: this.io })).catch(() => undefined);
  }

  /** Puts `file` first. */
  async touch(file: string): Promise<void> {
    const files = await this.load();
    if (files[0] === file) return;
    await this.store([file, ...files.filter((f) => f !== file)].slice(0, MAX_RECENT));
  }

  async forget(file: string): Promise<void> {
    const files = await this.load();
    if (files.includes(file)) await this.store(files.filter((f) => f !== file));
  }
}
