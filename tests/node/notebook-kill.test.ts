import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNotebook } from '../../src/common/notebook-format';
import { NotebookStore } from '../../src/node/notebook-store';
import { loopDoc } from './fixtures/loop-doc';
import { projectRoot, tempDir } from './helpers';

const RUNS = Number(process.env['NTL_KILL_RUNS'] ?? 30);

/** Starts the writer, waits until it has saved once, lets it run a random moment, then kills it (SIGKILL). */
async function saveThenKill(dir: string, first: number, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'tests/node/fixtures/save-loop.ts'), dir, String(first)], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before saving: ${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  await exited;
}

/** The version a valid file holds; fails the test when the file is not one whole version. */
async function versionIn(path: string): Promise<number> {
  const doc = parseNotebook(JSON.parse(await readFile(path, 'utf8')), path);
  const version = Number(doc.name.slice(1));
  expect(doc).toEqual(loopDoc(version));
  return version;
}

describe('a writer killed at random moments during saves', () => {
  it(`leaves the old or the new file, each whole, and a whole backup (${RUNS} kills)`, async () => {
    const dir = await tempDir('kill');
    let last = 0;
    const delays: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const delay = Math.floor(Math.random() * 120);
      delays.push(delay);
      await saveThenKill(dir, last + 1, delay);
      const version = await versionIn(join(dir, 'loop.ntl.json'));
      // Never older than what was there before this writer started, and at least its first save.
      expect(version).toBeGreaterThan(last);
      // The backup is whole too: the version before the last save, or (killed between keeping the
      // backup and the rename) the file itself. Only a first save has none.
      if (version > 1) expect(await versionIn(join(dir, '.backups', 'loop.ntl.json'))).toBeLessThanOrEqual(version);
      last = version;
    }
    // Temporary files of killed writers are cleared by the next listing, and never listed.
    const store = new NotebookStore(dir);
    expect((await store.list()).map((e) => [e.file, e.damaged])).toEqual([['loop.ntl.json', null]]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await readdir(join(dir, '.backups'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    console.log(`kill delays (ms): ${delays.join(', ')}; last version ${last}`);
  }, 300_000);
});
