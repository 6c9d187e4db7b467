import onnxProto from 'onnx-proto';
import { decodeModel } from '../../src/engine/onnx-decode';
import { planGraph, type GraphPlan } from '../../src/engine/onnx-graph';

const { onnx } = onnxProto;

/** A node as [opType, inputs, outputs, attributes?, domain?]; attributes are numbers, number lists or a float tensor. */
export type NodeSpec = [opType: string, inputs: string[], outputs: string[], attributes?: Record<string, number | number[]>, domain?: string];

export interface TinyGraph {
  nodes: NodeSpec[];
  /** Float initializers: name → [dims, values] (values default to a seeded pattern). */
  weights?: Record<string, [number[], number[]?]>;
  /** Scalars and small int64 constants as initializers. */
  ints?: Record<string, number[]>;
  inputs?: [name: string, elemType: number, dims: (number | string)[]][];
  outputs?: [name: string, elemType: number, dims: (number | string)[]][];
  opsets?: [domain: string, version: number][];
  /** Functions the model defines, as [domain, name] (bodies left empty: only the planner reads them). */
  functions?: [domain: string, name: string][];
}

const FLOAT = 1;
const INT64 = 7;

function attribute(name: string, value: number | number[]): onnxProto.onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  return Number.isInteger(value) && !['epsilon', 'alpha', 'scale'].includes(name) ? { name, type: 2, i: value } : { name, type: 1, f: value };
}

/** Encodes a small ONNX model for tests: hand-written graphs with the patterns the planner must recognise or refuse. */
export function tinyModel(spec: TinyGraph): Uint8Array {
  let seed = 1;
  const next = (): number => {
    seed = (seed * 16807) % 2147483647;
    return (seed / 2147483647) * 2 - 1;
  };
  const initializer: onnxProto.onnx.ITensorProto[] = [
    ...Object.entries(spec.weights ?? {}).map(([name, [dims, values]]) => ({
      name,
      dataType: FLOAT,
      dims,
      floatData: values ?? Array.from({ length: dims.reduce((a, b) => a * b, 1) }, next),
    })),
    ...Object.entries(spec.ints ?? {}).map(([name, values]) => ({ name, dataType: INT64, dims: values.length === 1 ? [] : [values.length], int64Data: values })),
  ];
  const info = ([name, elemType, dims]: [string, number, (number | string)[]]): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'tests/engine/tiny-graph.ts',
    functions: (spec.functions ?? []).map(([domain, name]) => ({ domain, name })),
    opsetImport: (spec.opsets ?? [['', 17], ['com.microsoft', 1]]).map(([domain, version]) => ({ domain, version })),
    graph: {
      name: 'tiny',
      node: spec.nodes.map(([opType, input, output, attributes = {}, domain = ''], i) => ({
        opType,
        input,
        output,
        domain,
        name: `n${i}_${opType}`,
        attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
      })),
      initializer,
      input: (spec.inputs ?? [['input_ids', INT64, [1, 'sequence']]]).map(info),
      output: (spec.outputs ?? [['logits', FLOAT, [1, 'sequence', 'vocab']]]).map(info),
    },
  }).finish();
}

export function planOf(spec: TinyGraph): GraphPlan {
  return planGraph(decodeModel(tinyModel(spec), 'tiny.onnx'), 'tiny.onnx');
}
