import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/node/model-registry';
import { readModelFiles } from '../../src/node/model-folder-files';
import { OnnxModel } from '../../src/engine/session';
import { tempDir } from '../node/helpers';
import { withExternalData } from '../node/tiny-onnx';
import { ROOT } from './load-model';
import { maxAbsDiff } from './reference-checks';

describe('a model whose weights are in an external data file (model.onnx_data)', () => {
  it('is listed with its data file, loads, and computes what the single-file model computes', async () => {
    const source = join(ROOT, 'tests/fixtures/models/llama-tiny');
    const root = await tempDir('external');
    const folder = join(root, 'llama-external');
    await cp(source, folder, { recursive: true });
    const { onnx, data } = withExternalData(new Uint8Array(await readFile(join(source, 'onnx/model.onnx'))), 'model.onnx_data');
    await writeFile(join(folder, 'onnx/model.onnx'), onnx);
    await writeFile(join(folder, 'onnx/model.onnx_data'), data);
    expect(onnx.byteLength).toBeLessThan(data.byteLength);

    const registry = new ModelRegistry([{ dir: root, source: 'user' }]);
    const info = await registry.resolve('llama-external');
    expect(info.files.onnxData).toEqual(['onnx/model.onnx_data']);
    expect(info.bytes).toBe(onnx.byteLength + data.byteLength);
    expect(info.views.find((v) => v.view === 'logitLens')?.ok).toBe(true);
    expect(await registry.fileForRequest('llama-external', 'onnx/model.onnx_data')).toBe(join(folder, 'onnx/model.onnx_data'));

    const load = async (id: string): Promise<OnnxModel> => OnnxModel.load(ort, await readModelFiles(await registry.resolve(id)), { backend: 'wasm', threads: 1 });
    await cp(source, join(root, 'llama-single'), { recursive: true });
    const [external, single] = [await load('llama-external'), await load('llama-single')];
    try {
      const ids = external.tokenizer.encode('The sun rises in the');
      const [a, b] = [await external.forward(ids), await single.forward(ids)];
      expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBe(0);
      expect(maxAbsDiff(a.attention?.data[0] ?? [], b.attention?.data[0] ?? [NaN])).toBe(0);
      expect(external.plan.lens).not.toHaveProperty('unavailable');
    } finally {
      await external.release();
      await single.release();
    }

    await rm(join(folder, 'onnx/model.onnx_data'));
    await expect(registry.resolve('llama-external')).rejects.toThrow(`${join(folder, 'onnx', 'model.onnx')}: its weights are in external data ${join(folder, 'onnx', 'model.onnx_data')}, which is missing`);
  });
});
