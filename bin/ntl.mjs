#!/usr/bin/env node
// The `ntl` command line: runs the engine in Node on the app's models. It runs the build in
// out/cli/ntl.mjs (`npm run build:cli`) when that is newer than every source it is made from, so a
// command starts without transpiling TypeScript; otherwise the sources themselves, through tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'out', 'cli', 'ntl.mjs');

/** The latest modification time of the TypeScript files under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

const sources = ['cli', 'engine', 'common', 'node'].map((d) => join(root, 'src', d));
const fresh = existsSync(built) && statSync(built).mtimeMs >= Math.max(statSync(join(root, 'package.json')).mtimeMs, ...sources.map(newest));
if (fresh) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
