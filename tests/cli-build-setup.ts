import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuiltCliFresh } from '../bin/cli-build.mjs';

/**
 * Vitest's global setup: the tests that spawn `ntl` (bin/ntl.mjs) run the prebuilt command line, so
 * each spawn starts without TypeScript's loader. Built here when the sources changed since the last
 * build (`npm test` builds it before the unit tests as well).
 */
export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  if (!isBuiltCliFresh(root)) execFileSync(process.execPath, [join(root, 'tools', 'build-cli.mjs')], { cwd: root, stdio: 'inherit' });
}
