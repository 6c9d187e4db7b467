import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';

/** The app's version, from package.json: written into notebooks and comparison files. */
const APP_VERSION = (JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')) as { version: string }).version;

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // The native engine's utility process (onnxruntime-node): out/main/native-engine.js.
          'native-engine': resolve(__dirname, 'src/main/native-engine/process.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // Sandboxed preloads must be CommonJS: emitted as out/preload/index.cjs.
      rolldownOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [vue()],
    define: { __APP_VERSION__: JSON.stringify(APP_VERSION) },
    worker: { format: 'es' },
    optimizeDeps: { exclude: ['onnxruntime-web', 'onnxruntime-web/wasm'] },
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      chunkSizeWarningLimit: 2000,
      // Less code to parse and compile on the UI thread during the first run.
      minify: true,
      rolldownOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
