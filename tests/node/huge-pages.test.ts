import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wantsHugePages } from '../../bin/huge-pages.mjs';
import { projectRoot, seedWorld, tempDir, type Run } from './helpers';

const thpFile = '/sys/kernel/mm/transparent_hugepage/enabled';
const hugePagesHere = process.platform === 'linux' && existsSync(thpFile) && !readFileSync(thpFile, 'utf8').includes('[never]');

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: projectRoot, timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('generation asks malloc for huge pages (bin/huge-pages.mjs)', () => {
  it('is wanted on Linux with transparent huge pages, unless turned off or already asked for', () => {
    expect(wantsHugePages({ NTL_HUGE_PAGES: '0' })).toBe(false);
    expect(wantsHugePages({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' })).toBe(false);
    expect(wantsHugePages({})).toBe(hugePagesHere);
  });

  it.runIf(hugePagesHere)('runs the command again with the tunable added, passing its output and exit code on', async () => {
    const dir = await tempDir('ntl-huge-pages-');
    const script = join(dir, 'probe.mjs');
    await writeFile(
      script,
      `import { rerunWithHugePages, wantsHugePages } from ${JSON.stringify(pathToFileURL(join(projectRoot, 'bin', 'huge-pages.mjs')).href)};\n` +
        `if (wantsHugePages()) rerunWithHugePages(); else { console.log(process.env.GLIBC_TUNABLES); process.exit(3); }\n`,
    );
    const out = await run([script], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' });
    expect(out.code).toBe(3);
    expect(out.stdout.trim()).toBe('glibc.malloc.arena_max=4:glibc.malloc.hugetlb=1');
  });

  it('gives the same tokens and the same errors with and without them', async () => {
    const args = [join(projectRoot, 'bin', 'ntl.mjs'), 'generate', '--model', seedWorld, '--backend', 'native', '--prompt', 'The cat sat on the', '--strategy', 'top-p', '--top-p', '0.9', '--temperature', '0.8', '--seed', '3', '--max-tokens', '8', '--json'];
    const [on, off] = [await run(args, {}), await run(args, { NTL_HUGE_PAGES: '0' })];
    expect(on.code).toBe(0);
    expect(off.code).toBe(0);
    const tokens = (r: Run): unknown => (JSON.parse(r.stdout) as { steps: unknown }).steps;
    expect(tokens(on)).toEqual(tokens(off));
    const bad = [...args.slice(0, 2), '--max-tokens', '-1'];
    const [badOn, badOff] = [await run(bad, {}), await run(bad, { NTL_HUGE_PAGES: '0' })];
    expect(badOn.code).not.toBe(0);
    expect(badOn.code).toBe(badOff.code);
    expect(badOn.stderr).toBe(badOff.stderr);
  });
});
