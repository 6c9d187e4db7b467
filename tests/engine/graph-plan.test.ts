import { describe, expect, it } from 'vitest';
import { headCounts } from '../../src/engine/onnx-graph';
import { checkKnownOperators, explainSessionError } from '../../src/engine/operator-support';
import { supportedViews } from '../../src/engine/supported-views';
import { planOf, type TinyGraph } from './tiny-graph';

// Hand-written graphs with the patterns of other exporters. Shapes are not consistent: the planner
// reads only the structure and the small constants, and these graphs are never run.

const FLOAT = 1;
const INT64 = 7;
const INPUTS: TinyGraph['inputs'] = [
  ['input_ids', INT64, [1, 'sequence']],
  ['position_ids', INT64, [1, 'sequence']],
];

/** An RMSNorm decoder layer as other exporters write it: a Cast to float, Reciprocal, a Mul-square final norm,
 * cos/sin tables gathered at position_ids, a router Softmax, a Softmax over the wrong axis and a Gemm head. */
const rmsRotary: TinyGraph = {
  inputs: INPUTS,
  weights: {
    E: [[8, 4]],
    cosT: [[16, 2], [1, 1, ...Array.from({ length: 30 }, (_, i) => Math.cos(i))]],
    sinT: [[16, 2], [0, 0, ...Array.from({ length: 30 }, (_, i) => Math.sin(i))]],
    Wq: [[4, 4]],
    Wk: [[4, 2]],
    Wv: [[4, 2]],
    Wr: [[4, 3]],
    g1: [[4]],
    gf: [[4], [1, 2, 3, 4]],
    Wh: [[8, 4]],
    bh: [[8], [0, 1, 2, 3, 4, 5, 6, 7]],
    two: [[], [2]],
    eps: [[], [1e-6]],
    one: [[], [1]],
    scale: [[], [2]],
  },
  nodes: [
    ['Gather', ['E', 'input_ids'], ['x0']],
    ['Cast', ['x0'], ['xc'], { to: FLOAT }],
    ['Pow', ['xc', 'two'], ['sq']],
    ['ReduceMean', ['sq'], ['var'], { axes: [-1], keepdims: 1 }],
    ['Add', ['var', 'eps'], ['ve']],
    ['Sqrt', ['ve'], ['sd']],
    ['Reciprocal', ['sd'], ['inv']],
    ['Mul', ['xc', 'inv'], ['nrm']],
    ['Mul', ['g1', 'nrm'], ['h1']],
    ['MatMul', ['h1', 'Wq'], ['q']],
    ['MatMul', ['h1', 'Wk'], ['k']],
    ['MatMul', ['h1', 'Wv'], ['v']],
    ['Gather', ['cosT', 'position_ids'], ['cos']],
    ['Gather', ['sinT', 'position_ids'], ['sin']],
    ['Mul', ['q', 'cos'], ['qc']],
    ['Mul', ['k', 'cos'], ['kc']],
    ['Transpose', ['kc'], ['kt'], { perm: [0, 2, 1] }],
    ['MatMul', ['qc', 'kt'], ['s']],
    ['Div', ['s', 'scale'], ['s2']],
    ['Softmax', ['s2'], ['p'], { axis: -1 }],
    ['Softmax', ['s2'], ['p_wrong_axis'], { axis: 1 }],
    ['MatMul', ['p', 'v'], ['a']],
    ['Add', ['x0', 'a'], ['x1']],
    ['MatMul', ['h1', 'Wr'], ['router']],
    ['Softmax', ['router'], ['route'], { axis: -1 }],
    ['Add', ['x1', 'route'], ['x2']],
    ['Mul', ['x2', 'x2'], ['fsq']],
    ['ReduceMean', ['fsq'], ['fvar'], { axes: [-1] }],
    ['Add', ['fvar', 'eps'], ['fve']],
    ['Sqrt', ['fve'], ['fsd']],
    ['Div', ['x2', 'fsd'], ['fn']],
    ['Mul', ['fn', 'gf'], ['hf']],
    ['Gemm', ['hf', 'Wh', 'bh'], ['logits'], { transB: 1 }],
  ],
};

/** Fused operators as ONNX Runtime's optimizer writes them: LayerNormalization, GroupQueryAttention, SkipLayerNormalization. */
function fusedGraph(skipSumOutput: boolean): TinyGraph {
  return {
    weights: { E: [[8, 4]], g: [[4]], b: [[4]], g2: [[4]], b2: [[4]], Wq: [[4, 4]], Wk: [[4, 2]], Wv: [[4, 2]] },
    nodes: [
      ['Gather', ['E', 'input_ids'], ['x0']],
      ['LayerNormalization', ['x0', 'g', 'b'], ['h'], { axis: -1, epsilon: 1e-5 }],
      ['MatMul', ['h', 'Wq'], ['q']],
      ['MatMul', ['h', 'Wk'], ['k']],
      ['MatMul', ['h', 'Wv'], ['v']],
      ['GroupQueryAttention', ['q', 'k', 'v'], ['a'], { num_heads: 4, kv_num_heads: 2 }, 'com.microsoft'],
      ['SkipLayerNormalization', ['a', 'x0', 'g2', 'b2'], skipSumOutput ? ['h2', '', '', 'x1'] : ['h2'], { epsilon: 1e-6 }, 'com.microsoft'],
      ['Transpose', ['E'], ['Et'], { perm: [1, 0] }],
      ['MatMul', ['h2', 'Et'], ['logits']],
    ],
  };
}

describe('planGraph on other exporters\' patterns', () => {
  it('RMSNorm with Cast and Reciprocal, rotary tables, a router Softmax and a Gemm head', () => {
    const plan = planOf(rmsRotary);
    expect(plan.probes.filter((p) => p.role === 'attention').map((p) => p.tensor)).toEqual(['p']);
    expect(plan.probes.filter((p) => p.role === 'residual').map((p) => p.tensor)).toEqual(['x0', 'x2']);
    // Each probe named by its hook point: one block, entered by x0 and left by x2.
    expect(Object.fromEntries(plan.probes.filter((p) => p.role === 'attention' || p.role === 'residual').map((p) => [p.tensor, p.hook]))).toEqual({
      p: 'blocks.0.attn.hook_pattern',
      x0: 'blocks.0.hook_resid_pre',
      x2: 'blocks.0.hook_resid_post',
    });
    expect(plan.positions).toBe('rotary');
    expect(plan.rotary).toEqual({ cos: 'cos', sin: 'sin' });
    expect(plan.probes.some((p) => p.role === 'position-embedding')).toBe(false);
    expect(plan.attention).toMatchObject({ source: 'softmax', layers: 1, queryWidth: 4, keyWidth: 2 });
    expect(headCounts(plan, { heads: 2, kvHeads: 2 })).toEqual({ heads: 2, kvHeads: 1 });
    const lens = plan.lens;
    if ('unavailable' in lens) throw new Error(lens.unavailable);
    expect(lens.norm).toBe('rms');
    expect(lens.epsilon).toBeCloseTo(1e-6, 12);
    expect(Array.from(lens.gamma)).toEqual([1, 2, 3, 4]);
    expect(lens.beta).toBeNull();
    expect(Array.from(lens.bias ?? [])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([lens.hidden, lens.vocab]).toEqual([4, 8]);
  });

  it('reads the unembedding of a Gemm with transB as [hidden][vocab]', () => {
    // Wh[v][h] = 4v + h, so unembedding[h][v] must be 4v + h too.
    const lens = planOf({ ...rmsRotary, weights: { ...rmsRotary.weights, Wh: [[8, 4], Array.from({ length: 32 }, (_, i) => i)] } }).lens;
    if ('unavailable' in lens) throw new Error(lens.unavailable);
    for (let h = 0; h < 4; h++) for (let v = 0; v < 8; v++) expect(lens.unembedding[h * 8 + v]).toBe(4 * v + h);
  });

  it('fused attention: heads from the operator, the reason in supportedViews, never invented weights', () => {
    const plan = planOf(fusedGraph(true));
    expect(plan.fusedAttention).toEqual(['com.microsoft.GroupQueryAttention']);
    expect(plan.attention).toMatchObject({ source: 'fused', layers: 1, heads: 4, kvHeads: 2 });
    expect(headCounts(plan, { heads: 8, kvHeads: 8 })).toEqual({ heads: 4, kvHeads: 2 });
    expect(plan.probes.some((p) => p.role === 'attention')).toBe(false);
    const views = supportedViews(plan);
    expect(views.attention).toEqual({
      ok: false,
      reason:
        'attention is fused into com.microsoft.GroupQueryAttention; its weights are never materialised and are not recomputed (GroupQueryAttention: its seqlens_k input is missing), so they cannot be shown',
    });
    // SkipLayerNormalization outputs the sum it normalises: that is the stream entering the final norm.
    expect(plan.probes.filter((p) => p.role === 'residual').map((p) => p.tensor)).toEqual(['x0', 'x1']);
    const lens = plan.lens;
    if ('unavailable' in lens) throw new Error(lens.unavailable);
    expect(lens).toMatchObject({ norm: 'layer', hidden: 4, vocab: 8 });
    expect(lens.epsilon).toBeCloseTo(1e-6, 12);
    expect(views.logitLens.ok && views.residual.ok).toBe(true);
  });

  it('a Skip*Normalization that hides the sum: residual stream and lens unavailable, with the reason', () => {
    const plan = planOf(fusedGraph(false));
    expect(plan.probes.some((p) => p.role === 'residual')).toBe(false);
    expect(plan.residualNote).toContain('SkipLayerNormalization');
    const views = supportedViews(plan);
    expect(views.residual.ok).toBe(false);
    expect(!views.residual.ok && views.residual.reason).toContain('SkipLayerNormalization');
    expect(!views.logitLens.ok && views.logitLens.reason).toContain('residual stream');
    expect(views.logits.ok && views.tokens.ok && views.embeddings.ok).toBe(true);
  });

  it('without recognisable attention the views say so', () => {
    const plan = planOf({ weights: { E: [[8, 4]], W: [[4, 8]] }, nodes: [['Gather', ['E', 'input_ids'], ['x']], ['MatMul', ['x', 'W'], ['logits']]] });
    const views = supportedViews(plan);
    expect(views.attention).toMatchObject({ ok: false, reason: expect.stringContaining('no Softmax over attention scores') });
    expect(views.residual).toMatchObject({ ok: false, reason: expect.stringContaining('no attention layers were recognised') });
    expect(views.embeddings).toMatchObject({ ok: true, note: expect.stringContaining('no positional embedding') });
    expect(plan.positions).toBe('none');
  });
});

describe('operators the backend cannot run', () => {
  const custom: TinyGraph = {
    weights: { E: [[8, 4]], W: [[4, 8]] },
    nodes: [
      ['Gather', ['E', 'input_ids'], ['x']],
      ['FancyNorm', ['x'], ['y'], {}, 'com.example'],
      ['LocalBlock', ['y'], ['z'], {}, 'my.functions'],
      ['MatMul', ['z', 'W'], ['logits']],
    ],
    opsets: [['', 17], ['com.example', 1], ['my.functions', 1]],
    functions: [['my.functions', 'LocalBlock']],
  };

  it('flags nodes in unknown custom domains before a session is tried (but not the model\'s own functions)', () => {
    const plan = planOf(custom);
    expect(plan.unknownOperators).toEqual([{ opType: 'FancyNorm', domain: 'com.example', node: 'n1_FancyNorm' }]);
    expect(() => checkKnownOperators(plan, 'my-model/onnx/model.onnx')).toThrow(
      'my-model/onnx/model.onnx: uses custom operator FancyNorm (domain com.example, node "n1_FancyNorm"), which ONNX Runtime Web has no kernel for',
    );
  });

  it('names the operator, its domain and opset in ONNX Runtime\'s errors', () => {
    const plan = planOf(rmsRotary);
    expect(explainSessionError("Can't create a session. ERROR_CODE: 9, ERROR_MESSAGE: Could not find an implementation for Gemm(13) node with name 'head'", plan, 'x/model.onnx', 'wasm')).toBe(
      'x/model.onnx: ONNX Runtime\'s wasm backend has no kernel for operator Gemm (domain ai.onnx, opset 13, node "head") with the data types this graph uses, so the model cannot run here',
    );
    expect(explainSessionError('Fatal error: com.example:FancyNorm(-1) is not a registered function/op', plan, 'x/model.onnx', 'webgpu')).toBe(
      'x/model.onnx: ONNX Runtime\'s webgpu backend does not know operator FancyNorm (domain com.example), so the model cannot run here',
    );
    expect(explainSessionError('out of memory', plan, 'x/model.onnx', 'wasm')).toBe('x/model.onnx: ONNX Runtime (wasm) could not create a session: out of memory');
  });
});
