import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from './request-error';

/** Temporary files of a write in progress: `.<name>.<pid>.<random>.tmp`, hidden from listings. */
const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

function isMissing(cause: unknown): boolean {
  return cause instanceof Error && 'code' in cause && cause.code === 'ENOENT';
}

/**
 * The file operations a save makes. The store passes Node's; a test passes one that fails the way
 * a full disk (ENOSPC) or a read-only folder (EACCES, EROFS) does, which it cannot make happen for real.
 */
export interface SaveIo {
  open: (path: string, flags: string, mode: number) => Promise<FileHandle>;
  writeText: (handle: FileHandle, text: string) => Promise<void>;
  copyFile: (from: string, to: string) => Promise<void>;
  rename: (from: string, to: string) => Promise<void>;
  mkdir: (path: string) => Promise<void>;
}

export const NODE_IO: SaveIo = {
  open: (path, flags, mode) => open(path, flags, mode),
  writeText: (handle, text) => handle.writeFile(text, 'utf8'),
  copyFile: (from, to) => copyFile(from, to),
  rename: (from, to) => rename(from, to),
  mkdir: async (path) => {
    await mkdir(path, { recursive: true });
  },
};

const CAUSES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'the folder is not writable (permission denied)',
  EPERM: 'the folder is not writable (operation not permitted)',
};

/** What went wrong with a file operation, in words first, with the system's own message after. */
export function fileCause(cause: unknown): string {
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : '';
  const words = CAUSES[code];
  return words ? `${words} (${errorMessage(cause)})` : errorMessage(cause);
}

/**
 * Writes `text` to `dir/name` so that a crash or a failed write at any moment leaves either the old
 * file or the new one, each whole, and no temporary file: a temporary file in the same folder,
 * flushed to disk, renamed over the target, then the folder flushed. With `backupDir`, the file being
 * replaced is copied there (itself atomically) once the new text is safely on disk, just before the
 * rename: the version before the last save can be opened, and a save that fails (a full disk) leaves
 * the backup as it was. Errors name the file, the folder and the cause in words.
 */
export async function writeFileAtomic(dir: string, name: string, text: string, options: { backupDir?: string; io?: SaveIo } = {}): Promise<void> {
  const io = options.io ?? NODE_IO;
  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | null = null;
  try {
    handle = await io.open(temp, 'wx', 0o644);
    await io.writeText(handle, text);
    await handle.sync();
    await handle.close();
    handle = null;
    if (options.backupDir !== undefined) await backup(io, join(dir, name), options.backupDir, name);
    await io.rename(temp, join(dir, name));
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new Error(`${name}: could not be saved in ${dir}: ${fileCause(cause)}; the file on disk is unchanged`);
  }
  await syncFolder(dir);
}

async function backup(io: SaveIo, target: string, backupDir: string, name: string): Promise<void> {
  const temp = join(backupDir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await io.mkdir(backupDir);
    await io.copyFile(target, temp);
    await io.rename(temp, join(backupDir, name));
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    if (isMissing(cause)) return; // A new file has no previous version.
    throw new Error(`its backup could not be kept in ${backupDir}: ${fileCause(cause)}`);
  }
}

/** Removes temporary files left by writers that are no longer running (a crash during a save). */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP.exec(name);
    if (!match || isRunning(Number(match[2]))) continue;
    await unlink(join(dir, name)).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    // EPERM: it runs, as another user.
    return cause instanceof Error && 'code' in cause && cause.code === 'EPERM';
  }
}

/** Makes a rename durable; folders cannot be opened for fsync on Windows, so best effort. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not possible on this platform.
  }
}
