import onnxProto from 'onnx-proto';
import { z } from 'zod';

const { onnx } = onnxProto;

/** Graph input: one gate per layer and head, [layers, heads]; 1 keeps a head, 0 switches it off. */
export const HEAD_GATE_INPUT = 'ntl_head_gate';
/** Graph input: which keys each query may read, per layer, [layers, n, n]; 0 removes a key (the row is renormalised). */
export const KEY_KEEP_INPUT = 'ntl_key_keep';

/** Switch off one head: its attention weights become zero at every position. */
export const HeadRef = z.object({ layer: z.number().int().min(0), head: z.number().int().min(0) });
export type HeadRef = z.infer<typeof HeadRef>;

/**
 * Remove one earlier token (`key`) from one position's (`query`) attention, in every layer and
 * head or in the layers named; the remaining weights of that row are renormalised to sum to 1.
 */
export const KeyRemoval = z.object({
  query: z.number().int().min(0),
  key: z.number().int().min(0),
  layers: z.array(z.number().int().min(0)).optional(),
});
export type KeyRemoval = z.infer<typeof KeyRemoval>;

export const Intervention = z.object({
  ablateHeads: z.array(HeadRef).max(4096).default([]),
  removeKeys: z.array(KeyRemoval).max(4096).default([]),
});
export type Intervention = z.infer<typeof Intervention>;
export type InterventionInput = z.input<typeof Intervention>;

/**
 * Returns the model with every observed attention Softmax edited: its probabilities `P` become
 * `gate[l, h] · (P ⊙ keep[l]) / max(Σ_k P ⊙ keep[l], ε)` in rows that lost a key and
 * `gate[l, h] · P` elsewhere, with `gate` and `keep` two new graph inputs. With every gate and every
 * keep at 1 the weights are exactly `P`; the edited tensor keeps the Softmax output's name, so the value matmul reads it and the
 * attention probes show the edited weights. The weights are re-encoded once. `floatType` is the
 * probabilities' ONNX type (the masks are cast to it); `gateShape` reshapes a layer's gates to
 * broadcast over its probabilities ([1, kv-heads, group, 1, 1] for 5-D grouped-query ones).
 */
export function addAttentionEdits(
  bytes: Uint8Array,
  attentionTensors: readonly string[],
  floatType: number,
  file = 'model.onnx',
  gateShape: readonly number[] = [1, -1, 1, 1],
): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph?.node) throw new Error(`${file}: no graph`);
  const nodes = graph.node;
  const initializers = graph.initializer ?? (graph.initializer = []);
  const int64 = (name: string, values: number[], dims: number[]): void => {
    initializers.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims, int64Data: values }));
  };
  const prefix = 'ntl_edit';
  int64(`${prefix}/shape_gate`, [...gateShape], [gateShape.length]);
  int64(`${prefix}/last_axis`, [-1], [1]);
  const float = (name: string, value: number): void => {
    initializers.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] }));
  };
  float(`${prefix}/eps`, 1e-30);
  float(`${prefix}/one`, 1);
  float(`${prefix}/half`, 0.5);
  const node = (opType: string, input: string[], output: string, attribute: onnxProto.onnx.IAttributeProto[] = []): onnxProto.onnx.INodeProto =>
    // Named apart from its output: the edited tensor keeps the Softmax output's name, which may also be the Softmax node's.
    onnx.NodeProto.create({ name: `ntl_edit_node:${output}`, opType, input, output: [output], attribute });
  // Model inputs are float32; a float16 graph gets them cast to its type.
  const cast = (name: string, added: onnxProto.onnx.INodeProto[]): string => {
    if (floatType === onnx.TensorProto.DataType.FLOAT) return name;
    added.push(node('Cast', [name], `${name}/cast`, [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: floatType })]));
    return `${name}/cast`;
  };
  const head: onnxProto.onnx.INodeProto[] = [];
  const eps = cast(`${prefix}/eps`, head);
  const one = cast(`${prefix}/one`, head);
  attentionTensors.forEach((tensor, layer) => {
    const index = nodes.findIndex((n) => n.output?.includes(tensor));
    const softmax = nodes[index];
    if (!softmax?.output) throw new Error(`${file}: no node produces the attention tensor "${tensor}"`);
    const raw = `${tensor}/ntl_raw`;
    softmax.output = softmax.output.map((o) => (o === tensor ? raw : o));
    const p = `${prefix}/${layer}`;
    int64(`${p}/layer`, [layer], []);
    const added: onnxProto.onnx.INodeProto[] = [
      node('Gather', [HEAD_GATE_INPUT, `${p}/layer`], `${p}/gate_row`),
      node('Reshape', [`${p}/gate_row`, `${prefix}/shape_gate`], `${p}/gate`),
      node('Gather', [KEY_KEEP_INPUT, `${p}/layer`], `${p}/keep_f32`),
    ];
    const gate = cast(`${p}/gate`, added);
    const keep = cast(`${p}/keep_f32`, added);
    const keepDims = [onnx.AttributeProto.create({ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 })];
    added.push(
      node('Mul', [raw, keep], `${p}/kept`),
      // Rows that lost a key (the keep mask's row sums to less than n) are renormalised; the others
      // are multiplied by exactly 1, so a no-op edit leaves every weight as it was, bit for bit.
      node('Sub', [`${prefix}/one`, `${p}/keep_f32`], `${p}/removed`),
      node('ReduceSum', [`${p}/removed`, `${prefix}/last_axis`], `${p}/removed_count`, keepDims),
      node('Greater', [`${p}/removed_count`, `${prefix}/half`], `${p}/row_edited`),
      node('ReduceSum', [`${p}/kept`, `${prefix}/last_axis`], `${p}/row_sum`, keepDims),
      node('Max', [`${p}/row_sum`, eps], `${p}/row_sum_safe`),
      node('Reciprocal', [`${p}/row_sum_safe`], `${p}/row_scale`),
      node('Where', [`${p}/row_edited`, `${p}/row_scale`, one], `${p}/scale`),
      node('Mul', [`${p}/kept`, `${p}/scale`], `${p}/renormalised`),
      node('Mul', [`${p}/renormalised`, gate], tensor),
    );
    nodes.splice(index + 1, 0, ...added);
  });
  nodes.unshift(...head);
  const floatInput = (name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
  graph.input = [...(graph.input ?? []), floatInput(HEAD_GATE_INPUT, [attentionTensors.length, 'ntl_heads']), floatInput(KEY_KEEP_INPUT, [attentionTensors.length, 'ntl_n', 'ntl_n'])];
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The gate and keep inputs for an intervention on a sequence of `n` tokens: checked against the
 * model's layers and heads and the sequence (a key after its query is already masked; a row may not
 * lose every key), each mistake named.
 */
export function interventionMasks(edit: Intervention, layers: number, heads: number, n: number): { gate: Float32Array; keep: Float32Array } {
  const gate = new Float32Array(layers * heads).fill(1);
  const keep = new Float32Array(layers * n * n).fill(1);
  for (const { layer, head } of edit.ablateHeads) {
    if (layer >= layers) throw new Error(`head ${layer}:${head}: the model has layers 0 to ${layers - 1}`);
    if (head >= heads) throw new Error(`head ${layer}:${head}: the model has heads 0 to ${heads - 1} in each layer`);
    gate[layer * heads + head] = 0;
  }
  for (const { query, key, layers: only } of edit.removeKeys) {
    if (query >= n) throw new Error(`position ${query}: the sequence has positions 0 to ${n - 1}`);
    if (key > query) throw new Error(`token ${key} comes after position ${query}, which never attends to it`);
    for (const layer of only ?? Array.from({ length: layers }, (_, l) => l)) {
      if (layer >= layers) throw new Error(`layer ${layer}: the model has layers 0 to ${layers - 1}`);
      keep[(layer * n + query) * n + key] = 0;
    }
  }
  for (let layer = 0; layer < layers; layer++) {
    for (let q = 0; q < n; q++) {
      let kept = 0;
      for (let k = 0; k <= q; k++) kept += keep[(layer * n + q) * n + k] ?? 0;
      if (kept === 0) throw new Error(`position ${q} would attend to nothing in layer ${layer}: keep at least one of its tokens`);
    }
  }
  return { gate, keep };
}

/** `L:H` (0-based layer and head), as `ntl predict --ablate-head` takes it. */
export function parseHeadRef(text: string): HeadRef {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`expected LAYER:HEAD with 0-based numbers, e.g. 0:1, got "${text}"`);
  return { layer: Number(match[1]), head: Number(match[2]) };
}
