#!/usr/bin/env node
// The `ntl` command line: runs the engine in Node on the app's models. It runs the build in
// out/cli/ntl.mjs (`npm run build:cli`) when that is newer than every source it is made from, so a
// command starts without transpiling TypeScript; otherwise the sources themselves, through tsx.
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtCliPath, isBuiltCliFresh } from './cli-build.mjs';
import { rerunWithHugePages, wantsHugePages } from './huge-pages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Node 22.1 and later keep the code they compiled for the next start (checked against the source,
// and rebuilt when it does not match); Node 20 has no such cache, and this is skipped.
module.enableCompileCache?.();
const args = process.argv.slice(2);
// `generate` on onnxruntime-node reads every weight each token: it runs with huge pages (huge-pages.mjs).
const onWasm = args.some((a, i) => a === '--backend=wasm' || (a === '--backend' && args[i + 1] === 'wasm'));
const remote = args.some((a, i) => a.startsWith('--model=remote:') || (a === '--model' && (args[i + 1] ?? '').startsWith('remote:')));
if (args[0] === 'generate' && !onWasm && !remote && wantsHugePages()) {
  rerunWithHugePages();
} else if (isBuiltCliFresh(root)) {
  await import(builtCliPath(root));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
