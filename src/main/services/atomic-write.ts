import { randomBytes } from 'node:crypto';
import { copyFile, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from './request-error';

/** Temporary files of a write in progress: `.<name>.<pid>.<random>.tmp`, hidden from listings. */
const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

function isMissing(cause: unknown): boolean {
  return cause instanceof Error && 'code' in cause && cause.code === 'ENOENT';
}

/**
 * Writes `text` to `dir/name` so that a crash at any moment leaves either the old file or the new
 * one, each whole: a temporary file in the same folder, flushed to disk, renamed over the target,
 * then the folder flushed. With `backupDir`, the file being replaced is first copied there (itself
 * atomically), so the version before the last save can be opened.
 */
export async function writeFileAtomic(dir: string, name: string, text: string, options: { backupDir?: string } = {}): Promise<void> {
  const target = join(dir, name);
  if (options.backupDir !== undefined) await backup(target, options.backupDir, name);
  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (cause) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new Error(`${name}: could not be saved: ${errorMessage(cause)}`);
  }
  await syncFolder(dir);
}

async function backup(target: string, backupDir: string, name: string): Promise<void> {
  const temp = join(backupDir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await copyFile(target, temp);
  } catch (cause) {
    if (isMissing(cause)) return; // A new file has no previous version.
    throw new Error(`${name}: could not keep a backup before saving: ${errorMessage(cause)}`);
  }
  await rename(temp, join(backupDir, name));
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
