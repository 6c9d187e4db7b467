import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(version) },
  test: {
    include: ['tests/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['tests/cli-build-setup.ts'],
    // `ntl models` and the registry look for GGUF files in LM Studio's and Ollama's folders: in tests,
    // folders that do not exist, so what a developer has in their own is never read (tests that scan set their own).
    env: { NTL_LMSTUDIO_DIR: join(tmpdir(), 'ntl-tests-no-lmstudio'), NTL_OLLAMA_DIR: join(tmpdir(), 'ntl-tests-no-ollama') },
  },
});
