import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ModelConfig } from '../common/model-config';
import type { ByteSource } from '../engine/byte-source';
import { logitsWidth } from '../engine/graph-facts';
import { checkKnownOperators } from '../engine/operator-support';
import { planGraph, type GraphPlan } from '../engine/onnx-graph';
import { prepareGraph } from '../engine/onnx-edit';
import type { GraphSummary } from '../engine/onnx-decode';
import { ModelTokenizer } from '../engine/tokenizer';
import { graphWithoutWeights } from './file-source';
import { errorMessage } from './request-error';

/**
 * Decodes a model folder's graph and checks what the engine will need: an input_ids input, a logits
 * output, known operators, a tokenizer that loads and whose ids all have a logit. Messages name the
 * files by their labels (paths as the user gave them).
 */
export async function checkGraph(
  onnxPath: string,
  dataFiles: string[],
  onnxLabel: string,
  tokenizerLabel: string,
  tokenizerJson: unknown,
  tokenizerConfig: unknown,
  config: ModelConfig,
): Promise<{ summary: GraphSummary; plan: GraphPlan; externalFiles: string[]; tokenizer: ModelTokenizer }> {
  const external = new Map<string, Uint8Array | ByteSource>();
  for (const file of dataFiles) {
    const data = await readFile(join(dirname(onnxPath), basename(file)));
    external.set(basename(file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  // The graph without its weights: the checks read the few they need from the file by offset.
  const skimmed = graphWithoutWeights(onnxPath, onnxLabel);
  if (skimmed) external.set(basename(onnxPath), skimmed.source);
  const bytes = skimmed?.graph ?? new Uint8Array(await readFile(onnxPath));
  const { graph: summary } = prepareGraph(bytes, onnxLabel, external);
  const plan = planGraph(summary, onnxLabel);
  checkKnownOperators(plan, onnxLabel);
  let tokenizer: ModelTokenizer;
  try {
    tokenizer = new ModelTokenizer(tokenizerJson, tokenizerConfig);
  } catch (cause) {
    throw new Error(`${tokenizerLabel}: ${errorMessage(cause).replace(/^tokenizer\.json: /, '')}`);
  }
  const width = logitsWidth(plan, summary);
  const limit = width ?? config.vocabSize;
  if (tokenizer.info.vocabSize > limit) {
    const source = width !== null ? `the last dimension of the graph's "${plan.logitsOutput}" output` : 'config.json "vocab_size"';
    throw new Error(`${tokenizerLabel}: vocabulary of ${tokenizer.info.vocabSize} tokens is larger than the model's ${limit} logits (${source})`);
  }
  // The file itself, where the weights were referred to in it, is no external file of the model.
  const externalFiles = summary.externalFiles.filter((f) => !skimmed || f !== basename(onnxPath));
  return { summary, plan, externalFiles, tokenizer };
}

const checkedTokenizers = new WeakMap<object, ModelTokenizer>();

/**
 * The tokenizer a model's check built, for the load that follows it in the same process (`ntl`):
 * GPT-2's 50,257-token vocabulary and its merges take about 0.15 s to check and build, once.
 */
export function rememberCheckedTokenizer(model: object, tokenizer: ModelTokenizer): void {
  checkedTokenizers.set(model, tokenizer);
}

/** What `rememberCheckedTokenizer` kept for `model`, if its check built one. */
export function checkedTokenizer(model: object): ModelTokenizer | undefined {
  return checkedTokenizers.get(model);
}
