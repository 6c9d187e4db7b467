import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the bundled models are: `NTL_BUNDLED_MODELS` or `<project>/resources/models`. */
export const bundledModels = process.env['NTL_BUNDLED_MODELS'] || join(projectRoot, 'resources', 'models');
export const seedWorld = join(bundledModels, 'seed-world');

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ntl-${prefix}-`));
}

/** A small but well-formed model folder (the registry does not run the ONNX file). */
export async function writeModelFolder(dir: string, options: { tokenizer?: boolean; config?: string; card?: unknown } = {}): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(
    join(dir, 'config.json'),
    options.config ?? JSON.stringify({ model_type: 'gpt2', vocab_size: 8, n_layer: 2, n_head: 2, n_embd: 16, n_positions: 32 }),
  );
  if (options.tokenizer !== false) {
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [] } }));
  }
  if (options.card !== undefined) await writeFile(join(dir, 'card.json'), JSON.stringify(options.card));
  await writeFile(join(dir, 'onnx', 'model.onnx'), Buffer.from('not really onnx, but bytes to hash'));
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/ntl.mjs ...args` from the project root and collects its exit code and output. */
export function ntl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(projectRoot, 'bin', 'ntl.mjs'), ...args], { cwd: projectRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
