import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { projectRoot } from './helpers';

const run = promisify(execFile);

describe('ntl built ahead of time (tools/build-cli.mjs)', () => {
  it('gives the same answers as the sources run through tsx', async () => {
    // Inside the project, where the bundle finds node_modules and the models as out/cli/ntl.mjs does.
    const out = join(projectRoot, 'out', `cli-test-${process.pid}`);
    onTestFinished(() => rm(out, { recursive: true, force: true }));
    await run(process.execPath, [join(projectRoot, 'tools/build-cli.mjs'), '--out', out], { cwd: projectRoot });
    const args = ['predict', '--prompt', 'The sun rises in the', '--top', '5', '--json'];
    const built = await run(process.execPath, [join(out, 'ntl.mjs'), ...args], { cwd: projectRoot });
    const source = await run(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args], { cwd: projectRoot });
    const strip = (text: string): unknown => {
      const { timing, ...rest } = JSON.parse(text) as Record<string, unknown>;
      return { ...rest, backend: (timing as { backend?: string }).backend };
    };
    expect(strip(built.stdout)).toEqual(strip(source.stdout));
    expect(built.stderr).toBe('');
  }, 60_000);
});
