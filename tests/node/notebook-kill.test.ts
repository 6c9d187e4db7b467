import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotebookStore } from '../../src/main/services/notebook-store';
import { killDoc } from './fixtures/kill-doc';
import { projectRoot, tempDir } from './helpers';

const KILLS = 30;

/** Starts the save loop, waits for its first finished save, lets it run a random while, and SIGKILLs it; returns the last version it reported. */
function saveThenKill(dir: string, run: number, random: () => number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'tests', 'node', 'fixtures', 'save-loop.mjs'), dir, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = 0;
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) last = Number(line);
      // Kill somewhere in the next few saves: while writing the backup, the new file, or between.
      timer ??= setTimeout(() => child.kill('SIGKILL'), Math.floor(random() * 400));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`save loop ended by itself (code ${code}): ${stderr}`));
      else resolve(last);
    });
  });
}

/** A small seeded generator (mulberry32), so that a failing run can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a save killed at any moment', () => {
  it(`leaves the old or the new version, never a broken file, over ${KILLS} SIGKILLs`, { timeout: 300_000 }, async () => {
    const dir = await tempDir('kill');
    const store = new NotebookStore(dir);
    const seed = Number(process.env['NTL_KILL_SEED'] ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    for (let run = 1; run <= KILLS; run += 1) {
      const last = await saveThenKill(dir, run, random);
      const context = `seed ${seed}, run ${run}, last reported save v${last}`;
      expect(last, context).toBeGreaterThanOrEqual(1);
      const doc = await store.read('big.ntl.json');
      // The save reported last (old) or the one after it (new), complete and equal to what was saved.
      expect([`r${run}-v${last}`, `r${run}-v${last + 1}`], context).toContain(doc.name);
      expect(doc, context).toEqual(killDoc(doc.name));
      const list = await store.list();
      expect(list.map((e) => [e.file, e.damaged]), context).toEqual([['big.ntl.json', null]]);
      // The backup, written the same way, is whole too; only before the first save replaced the file is there none.
      const hasBackup = !(run === 1 && doc.name === 'r1-v1');
      if (hasBackup) {
        const backup = await store.readBackup('big.ntl.json');
        expect(backup, context).toEqual(killDoc(backup.name));
      }
      const names = await readdir(dir);
      const visible = names.filter((name) => !name.startsWith('.')).sort();
      if (hasBackup) expect(visible, context).toEqual(['big.ntl.json', 'big.ntl.json.bak']);
      else expect(visible.filter((name) => name !== 'big.ntl.json.bak'), context).toEqual(['big.ntl.json']);
      // Temporary files of earlier runs are cleaned up by the next save; only the last run's may remain.
      expect(names.filter((name) => name.startsWith('.')).every((name) => name.endsWith('.tmp')), context).toBe(true);
      expect(names.filter((name) => name.startsWith('.')).length, context).toBeLessThanOrEqual(2);
    }
  });
});
