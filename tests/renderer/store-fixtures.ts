import { createPinia, setActivePinia } from 'pinia';
import { vi } from 'vitest';
import type { NtlApi } from '../../src/common/api';
import type { ForwardPayload, LoadResult, TokenizeResult } from '../../src/renderer/src/engine/protocol';
import type { GenerationState } from '../../src/engine/generate';
import { FakeWorker } from './fake-worker';

const variant = (name: string, onnx: string): { name: string; onnx: string; onnxWithPast: null; onnxData: string[]; bytes: number } => ({ name, onnx, onnxWithPast: null, onnxData: [], bytes: 1 });
/** A hub folder as the registry lists it: five ONNX files of one model. */
export const hub = {
  id: 'gpt2-hub', name: 'GPT-2 hub', source: 'user', description: '', defaultPrompt: null, modelType: 'gpt2', layers: 2, heads: 2, kvHeads: 2, hidden: 32,
  vocab: 320, context: 64, parameters: 1, bytes: 1, sha256: 'x', opset: 14, precision: 'float32', graphInputs: ['input_ids'], views: [],
  files: { config: 'config.json', tokenizer: 'tokenizer.json', tokenizerConfig: null, onnx: 'onnx/model.onnx', onnxWithPast: null, onnxData: [], card: null },
  variant: 'fp32',
  variants: [variant('fp32', 'onnx/model.onnx'), variant('fp16', 'onnx/model_fp16.onnx'), variant('q4', 'onnx/model_q4.onnx')],
};
export const other = { ...hub, id: 'seed-world', name: 'Seed World', sha256: 'y', defaultPrompt: 'Once upon a', variants: [variant('fp32', 'onnx/model.onnx')] };

/** The page's services, standing in: two models listed. */
export const fakeApi = { transport: 'http', nativeEngine: false, remote: {}, models: { list: async () => ({ models: [hub, other], problems: [{ path: 'broken', message: 'no config.json' }] }) } } as unknown as NtlApi;

/** A fresh Pinia and the browser globals the stores read, with the worker standing in. */
export function freshPage(): void {
  vi.stubGlobal('Worker', FakeWorker);
  vi.stubGlobal('window', new EventTarget());
  vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:5417/' });
  setActivePinia(createPinia());
}

export function lastWorker(): FakeWorker {
  const worker = FakeWorker.last;
  if (!worker) throw new Error('no worker was started');
  return worker;
}

export const loadResult = (modelId: string): Partial<LoadResult> => ({ modelId, backend: 'wasm', threads: 1, backendNote: null, context: 64, layers: 2, heads: 2 });

/** The notebook store, its first load answered with `result` (the test file mocks the page's api); its worker and that load request. */
export async function loadedNotebook(result: Partial<LoadResult> = loadResult('gpt2-hub')) {
  const { useNotebookStore } = await import('../../src/renderer/src/stores/notebook');
  const notebook = useNotebookStore();
  const init = notebook.init();
  const worker = lastWorker();
  const load = await worker.reply('load', result);
  await init;
  return { notebook, worker, load };
}

/** The tokenizer's answer for `pieces` (text of each token; ids are their positions + 10). */
export function tokenized(...texts: string[]): TokenizeResult {
  return { pieces: texts.map((text, i) => ({ id: i + 10, text, display: text.replace(/^ /, '␣') })), dropped: 0, context: 64 };
}

/** A forward pass over `ids` whose last logits favour token `best` (logit ln 3 against 0: 3/4 of the mass among two). */
export function forwardOf(ids: number[], best = 1): ForwardPayload {
  const lastLogits = new Float32Array(2);
  lastLogits[best] = Math.log(3);
  return { ids, vocab: 2, lastLogits, attention: null, attentionNote: null, embeddings: { dim: 2 } as never, residual: null, residualMid: null, forwardMs: 1, lensNote: null, topPieces: [{ id: best, text: ' east', display: '␣east' }] };
}

export function generated(ids: number[], tokens: string[]): GenerationState {
  return { ids: [...ids, ...tokens.map((_, i) => i)], steps: tokens.map((token, i) => ({ id: i, token, prob: 0.5 }) as never), rngState: 1, stopReason: null };
}
