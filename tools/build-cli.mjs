// Builds the `ntl` command line ahead of time into out/cli/ntl.mjs with the bundler the app uses
// (Vite), so a command starts without transpiling TypeScript (bin/ntl.mjs runs the build when it is
// newer than the sources, else the sources through tsx). Packages stay external, resolved from
// node_modules as before.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere (the tests do); the default is where bin/ntl.mjs looks.
const at = process.argv.indexOf('--out');
const outDir = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : resolve(root, 'out/cli');
await build({
  root,
  configFile: false,
  logLevel: 'warn',
  build: {
    ssr: resolve(root, 'src/cli/main.ts'),
    outDir,
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rolldownOptions: { output: { entryFileNames: 'ntl.mjs', format: 'es' } },
  },
});
