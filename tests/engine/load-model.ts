import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { OnnxModel, type LoadOptions, type OrtModule } from '../../src/engine/session';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SEED_WORLD = join(ROOT, 'resources/models/seed-world');
export const TINY_SHAKESPEARE = join(ROOT, 'resources/models/tiny-shakespeare');

/** Both bundled models (each of two files) on both Node backends: [id, folder, backend]. */
export const BUNDLED_ON_BOTH_BACKENDS = [
  ['seed-world', SEED_WORLD, 'wasm'],
  ['seed-world', SEED_WORLD, 'native'],
  ['tiny-shakespeare', TINY_SHAKESPEARE, 'wasm'],
  ['tiny-shakespeare', TINY_SHAKESPEARE, 'native'],
] as const;

const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/**
 * Loads a bundled model straight from its folder with the engine and onnxruntime-web's Node build
 * (or another ONNX Runtime module and backend: onnxruntime-node for native).
 */
export async function loadBundled(dir = SEED_WORLD, options: { cache?: boolean; ort?: OrtModule; runtime?: LoadOptions } = {}): Promise<OnnxModel> {
  const withPast = join(dir, 'onnx/decoder_with_past.onnx');
  return OnnxModel.load(
    options.ort ?? ort,
    {
      id: basename(dir),
      config: json(join(dir, 'config.json')),
      tokenizer: json(join(dir, 'tokenizer.json')),
      tokenizerConfig: json(join(dir, 'tokenizer_config.json')),
      onnx: new Uint8Array(readFileSync(join(dir, 'onnx/model.onnx'))),
      onnxWithPast: options.cache !== false && existsSync(withPast) ? new Uint8Array(readFileSync(withPast)) : null,
    },
    { ...(options.runtime ?? { backend: 'wasm', threads: 1 }), cache: options.cache !== false },
  );
}

export function fixture<T>(name: string): T {
  return json(join(ROOT, 'tests/fixtures', name)) as T;
}
