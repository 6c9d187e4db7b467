import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyOnnx } from './tiny-onnx';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the bundled models are: `NTL_BUNDLED_MODELS` or `<project>/resources/models`. */
export const bundledModels = process.env['NTL_BUNDLED_MODELS'] || join(projectRoot, 'resources', 'models');
export const seedWorld = join(bundledModels, 'seed-world');

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ntl-${prefix}-`));
}

/** A small but well-formed model folder: a real (two-node) ONNX graph, config, tokenizer. */
export async function writeModelFolder(
  dir: string,
  options: { tokenizer?: boolean | string; config?: string; card?: unknown; onnx?: Uint8Array | string } = {},
): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(
    join(dir, 'config.json'),
    options.config ?? JSON.stringify({ model_type: 'gpt2', vocab_size: 8, n_layer: 2, n_head: 2, n_embd: 16, n_positions: 32 }),
  );
  if (typeof options.tokenizer === 'string') await writeFile(join(dir, 'tokenizer.json'), options.tokenizer);
  else if (options.tokenizer !== false) await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizer(['a', 'b'])));
  if (options.card !== undefined) await writeFile(join(dir, 'card.json'), JSON.stringify(options.card));
  await writeFile(join(dir, 'onnx', 'model.onnx'), options.onnx ?? tinyOnnx());
}

/** A Hugging Face tokenizer.json with a word-level vocabulary of `words`. */
export function tinyTokenizer(words: string[]): unknown {
  return {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(words.map((w, i) => [w, i])), unk_token: words[0] },
  };
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
