import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { OnnxModel } from '../../src/engine/session';
import { ROOT } from './load-model';
import { tinyModel, type TinyGraph } from './tiny-graph';

const FLOAT = 1;
const BFLOAT16 = 16;
const llama = join(ROOT, 'tests/fixtures/models/llama-tiny');
const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

async function load(graph: TinyGraph): Promise<OnnxModel> {
  return OnnxModel.load(
    ort,
    {
      id: 'broken',
      config: { model_type: 'test', vocab_size: 320, n_layer: 1, n_head: 1, n_embd: 4, n_positions: 16 },
      tokenizer: json(join(llama, 'tokenizer.json')),
      tokenizerConfig: json(join(llama, 'tokenizer_config.json')),
      onnx: tinyModel(graph),
    },
    { backend: 'wasm', threads: 1 },
  );
}

describe('a model with an operator the backend cannot run', () => {
  it('names the operator, its domain and opset, the node and the file when ONNX Runtime has no kernel for it', async () => {
    // Valid ONNX, but ONNX Runtime's CPU kernels have no Relu for bfloat16 (a bf16 export fails the same way).
    const graph: TinyGraph = {
      weights: { E: [[8, 4]], W: [[4, 8]] },
      nodes: [
        ['Gather', ['E', 'input_ids'], ['x']],
        ['Cast', ['x'], ['xb'], { to: BFLOAT16 }],
        ['Relu', ['xb'], ['yb']],
        ['Cast', ['yb'], ['y'], { to: FLOAT }],
        ['MatMul', ['y', 'W'], ['logits']],
      ],
    };
    await expect(load(graph)).rejects.toThrow(
      'broken/onnx/model.onnx: ONNX Runtime\'s wasm backend has no kernel for operator Relu (domain ai.onnx, opset 14, node "n2_Relu")',
    );
  });

  it('refuses a custom-domain operator before trying, naming it', async () => {
    const graph: TinyGraph = {
      weights: { E: [[8, 4]], W: [[4, 8]] },
      nodes: [
        ['Gather', ['E', 'input_ids'], ['x']],
        ['FancyNorm', ['x'], ['y'], {}, 'com.example'],
        ['MatMul', ['y', 'W'], ['logits']],
      ],
      opsets: [['', 17], ['com.example', 1]],
    };
    await expect(load(graph)).rejects.toThrow('broken/onnx/model.onnx: uses custom operator FancyNorm (domain com.example, node "n1_FancyNorm")');
  });

  it('still runs the same graph without the unsupported operator', async () => {
    const model = await load({
      weights: { E: [[8, 4]], W: [[4, 8]] },
      nodes: [
        ['Gather', ['E', 'input_ids'], ['x']],
        ['Relu', ['x'], ['y']],
        ['MatMul', ['y', 'W'], ['logits']],
      ],
    });
    const result = await model.forward([1, 2, 3]);
    expect(result.lastLogits).toHaveLength(8);
    expect(result.attentionNote).toContain('No Softmax');
    await model.release();
  });
});
