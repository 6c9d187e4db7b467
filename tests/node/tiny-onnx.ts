import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface TinyOnnxOptions {
  vocab?: number;
  hidden?: number;
  opset?: number;
  /** Name of the token input (default input_ids). */
  input?: string;
  /** Name of the output (default logits). */
  output?: string;
  /** An extra node of this operator in this domain (to test operator checks). */
  extraOp?: { opType: string; domain: string };
}

/**
 * A real, runnable ONNX decoder reduced to its two ends: input_ids -> Gather(embedding table) ->
 * MatMul(unembedding) -> logits, with seeded weights. Enough for the registry and import checks,
 * which read graphs without running them.
 */
export function tinyOnnx(options: TinyOnnxOptions = {}): Uint8Array {
  const vocab = options.vocab ?? 8;
  const hidden = options.hidden ?? 4;
  const input = options.input ?? 'input_ids';
  const output = options.output ?? 'logits';
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 0.2 - 0.1;
  const tensor = (name: string, dims: number[]): onnxProto.onnx.ITensorProto => ({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    floatData: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, rand),
  });
  const info = (name: string, elemType: number, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const nodes: onnxProto.onnx.INodeProto[] = [
    { name: '/wte/Gather', opType: 'Gather', input: ['wte.weight', input], output: ['embedded'] },
    { name: '/lm_head/MatMul', opType: 'MatMul', input: ['embedded', 'lm_head.weight'], output: [output] },
  ];
  if (options.extraOp) nodes.push({ name: '/extra', opType: options.extraOp.opType, domain: options.extraOp.domain, input: [output], output: ['extra_out'] });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'next-token-lab tests',
    opsetImport: [{ domain: '', version: options.opset ?? 17 }, ...(options.extraOp ? [{ domain: options.extraOp.domain, version: 1 }] : [])],
    graph: {
      name: 'tiny',
      node: nodes,
      initializer: [tensor('wte.weight', [vocab, hidden]), tensor('lm_head.weight', [hidden, vocab])],
      input: [info(input, onnx.TensorProto.DataType.INT64, ['batch', 'sequence'])],
      output: [info(output, onnx.TensorProto.DataType.FLOAT, ['batch', 'sequence', vocab])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/**
 * The same model with its weights moved to an external data file (the layout of models over 2 GB):
 * each initializer's bytes go to `location` at an offset, and the graph keeps only the reference.
 */
export function withExternalData(bytes: Uint8Array, location: string): { onnx: Uint8Array; data: Uint8Array } {
  const model = onnx.ModelProto.decode(bytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const init of model.graph?.initializer ?? []) {
    let raw = init.rawData && init.rawData.length > 0 ? init.rawData : null;
    if (!raw && init.floatData && init.floatData.length > 0) raw = new Uint8Array(Float32Array.from(init.floatData).buffer);
    if (!raw || raw.byteLength < 64) continue;
    chunks.push(raw);
    init.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    init.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ];
    init.rawData = new Uint8Array(0);
    init.floatData = [];
    offset += raw.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  return { onnx: onnx.ModelProto.encode(model).finish(), data };
}
