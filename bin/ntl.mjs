#!/usr/bin/env node
// The `ntl` command line: runs the engine in Node on the app's models. It runs the build in
// out/cli/ntl.mjs (`npm run build:cli`) when that is newer than every source it is made from, so a
// command starts without transpiling TypeScript; otherwise the sources themselves, through tsx.
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtCliPath, isBuiltCliFresh } from './cli-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Node 22.1 and later keep the code they compiled for the next start (checked against the source,
// and rebuilt when it does not match); Node 20 has no such cache, and this is skipped.
module.enableCompileCache?.();
if (isBuiltCliFresh(root)) {
  await import(builtCliPath(root));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
