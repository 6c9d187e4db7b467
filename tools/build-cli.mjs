// Builds the `ntl` command line ahead of time into out/cli/ntl.mjs with the bundler the app uses
// (Vite), so a command starts without transpiling TypeScript (bin/ntl.mjs runs the build when it is
// newer than the sources, else the sources through tsx). Pure JavaScript packages (zod, onnx-proto,
// the tokenizers, ...) are bundled in: Node then compiles one file instead of resolving and loading
// hundreds. Native addons and the runtimes that load files beside them (onnxruntime-node and -web,
// node-llama-cpp) stay external, resolved from node_modules, and are imported only by the commands
// that run them.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere (the tests do); the default is where bin/ntl.mjs looks.
const at = process.argv.indexOf('--out');
const outDir = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : resolve(root, 'out/cli');
/**
 * protobufjs finds its optional `long` package at run time (`util.inquire("long")`, a require hidden
 * from bundlers). In the bundle that would resolve from out/cli, so to another version than the
 * package's own, and load it through Node's CommonJS loader at each start: made a plain require here,
 * it is bundled, resolved from protobufjs as in node_modules.
 */
const protobufLong = {
  name: 'protobufjs-long',
  transform(code, id) {
    if (!/[\\/]protobufjs[\\/]src[\\/]util[\\/]minimal\.js$/.test(id) || !code.includes('util.inquire("long")')) return null;
    return { code: code.replace('util.inquire("long")', 'require("long")'), map: null };
  },
};

await build({
  root,
  configFile: false,
  logLevel: 'warn',
  ssr: { noExternal: true, external: ['onnxruntime-node', 'onnxruntime-web', 'node-llama-cpp'] },
  plugins: [protobufLong],
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
