import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { WorkspaceInfo } from '../common/api';
import { writeFileAtomic } from './atomic-write';
import { NotebookStore, type NotebookStoreOptions } from './notebook-store';
import { RequestError, errorMessage } from './request-error';

/** What the desktop app remembers of the workspace between runs (`settings.json` in its user data). */
const Settings = z.object({ workspace: z.string().min(1).max(4096).optional() });

/**
 * The workspace folder the notebooks live in: the default one (under the app's user data) or any
 * folder the user opened, remembered between runs. Only a folder the user picked in the system's
 * folder dialog (or named on the command line) becomes the workspace: the page can never name one.
 */
export class Workspace {
  private current: NotebookStore;
  private remembered: string | null = null;

  constructor(
    private readonly defaultDir: string,
    /** Where the chosen folder is remembered; null: nothing is remembered (the browser build). */
    private readonly settingsFile: string | null,
    private readonly options: NotebookStoreOptions & { canChoose: boolean },
  ) {
    this.current = new NotebookStore(defaultDir, options);
  }

  get store(): NotebookStore {
    return this.current;
  }

  /** Reopens the folder remembered from the last run, when it is still there; the default otherwise. */
  async restore(): Promise<{ problem: string | null }> {
    if (this.settingsFile === null) return { problem: null };
    let settings: z.infer<typeof Settings>;
    try {
      settings = Settings.parse(JSON.parse(await readFile(this.settingsFile, 'utf8')));
    } catch (cause) {
      if (cause instanceof Error && 'code' in cause && cause.code === 'ENOENT') return { problem: null };
      return { problem: `${this.settingsFile}: ignored, ${errorMessage(cause)}` };
    }
    if (settings.workspace === undefined) return { problem: null };
    try {
      await this.use(settings.workspace, { remember: false });
      return { problem: null };
    } catch (cause) {
      return { problem: `the workspace folder of the last run is not usable, the default one is open: ${errorMessage(cause)}` };
    }
  }

  /** Makes `dir` (an absolute path to an existing folder) the workspace; remembered for the next run. */
  async use(dir: string, { remember = true } = {}): Promise<WorkspaceInfo> {
    if (!isAbsolute(dir)) throw new RequestError(400, `${dir}: expected an absolute path to a folder`);
    const folder = resolve(dir);
    let isFolder: boolean;
    try {
      isFolder = (await stat(folder)).isDirectory();
    } catch (cause) {
      throw new RequestError(404, `${folder}: cannot be opened as a workspace: ${errorMessage(cause)}`);
    }
    if (!isFolder) throw new RequestError(400, `${folder}: is a file, expected a folder`);
    this.current = new NotebookStore(folder, this.options);
    this.remembered = folder === resolve(this.defaultDir) ? null : folder;
    if (remember && this.settingsFile !== null) {
      await mkdir(dirname(this.settingsFile), { recursive: true });
      const settings = this.remembered === null ? {} : { workspace: this.remembered };
      await writeFileAtomic(dirname(this.settingsFile), basename(this.settingsFile), `${JSON.stringify(settings, null, 2)}\n`);
    }
    return this.info();
  }

  /** Back to the default folder under the app's user data. */
  useDefault(): Promise<WorkspaceInfo> {
    return this.use(resolve(this.defaultDir));
  }

  info(): WorkspaceInfo {
    return { dir: this.current.dir, isDefault: this.current.dir === resolve(this.defaultDir), canChoose: this.options.canChoose };
  }
}
