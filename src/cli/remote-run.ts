import { PredictParams, SampleParams } from '../common/cells';
import type { NotebookDoc } from '../common/notebook-format';
import { runCells, type CellOutcome } from './notebook-cells';
import { presetSettings } from '../common/sampling-strategy';
import type { RemoteClient } from '../node/openai-client';
import { remoteColumn, remotePredict, remoteTokens } from '../node/remote-model';
import type { ParsedCommand } from './args';
import { REMOTE_PREFIX, remoteClient, remoteTiming } from './remote-commands';

/** What a served model cannot show, per cell kind, in words. */
const NOT_SERVED: Readonly<Record<string, string>> = {
  embed: 'a served model: the server does not return embeddings (only tokens and log-probabilities)',
  attend: 'a served model: the server does not return attention weights (only tokens and log-probabilities)',
};

async function cellResult(client: RemoteClient, prompt: string, kind: string, rawParams: unknown): Promise<unknown> {
  switch (kind) {
    case 'tokenize': {
      const { via, tokenization } = await remoteTokens(client, prompt);
      return { tokens: tokenization.ids.map((id, i) => ({ id: id < 0 ? null : id, text: tokenization.texts[i] ?? null })), count: tokenization.ids.length, tokenized_by: via };
    }
    case 'predict': {
      const params = PredictParams.parse(rawParams);
      if (params.temperature !== 1) throw new Error(`temperature ${params.temperature}: a server returns the top-K log-probabilities at temperature 1 only`);
      const p = await remotePredict(client, prompt, params.topK);
      return { temperature: 1, entropy: p.entropy, entropy_scope: 'top-k', top: p.top, other_mass: p.otherMass };
    }
    case 'sample': {
      const params = SampleParams.parse(rawParams);
      const column = await remoteColumn(client, prompt, { settings: presetSettings(params.sampling, params.knobs), seed: params.seed, maxTokens: params.maxTokens, stop: params.stop === '' ? undefined : params.stop });
      return {
        strategy: params.sampling,
        knobs: params.knobs,
        seed: params.seed,
        sent: column.sent,
        not_applied: column.notApplied,
        generated: column.generated,
        steps: column.steps,
        stop_reason: column.stopReason,
      };
    }
    default:
      throw new Error(NOT_SERVED[kind] ?? `unknown cell kind "${kind}"`);
  }
}

/** True when the notebook (or `--model`) names a served model. */
export function isRemoteNotebook(values: ParsedCommand['values'], doc: NotebookDoc): boolean {
  const model = values['model'];
  return typeof model === 'string' ? model.startsWith(REMOTE_PREFIX) : doc.model.id.startsWith(REMOTE_PREFIX);
}

/**
 * `ntl run` of a notebook on a served model: its URL, model name and timeout from the notebook (or
 * `--model`, `--base-url`, `--timeout`), the key from `NTL_API_KEY`; each cell's result as a local run gives it, plus what the
 * server could not give (`entropy_scope`, `other_mass`, `not_applied`), or the reason in `error`.
 */
export async function remoteRun(values: ParsedCommand['values'], doc: NotebookDoc, file: string): Promise<{ json: Record<string, unknown>; cells: CellOutcome[] }> {
  const savedTimeout = doc.model.timeoutS === undefined ? undefined : String(doc.model.timeoutS);
  const client = remoteClient({ ...values, model: values['model'] ?? doc.model.id, 'base-url': values['base-url'] ?? doc.model.baseUrl, timeout: values['timeout'] ?? savedTimeout });
  const started = performance.now();
  const cells = await runCells(doc, (kind, params) => cellResult(client, doc.prompt, kind, params));
  const json = {
    source: 'remote',
    notebook: doc.name,
    file,
    model: { id: `${REMOTE_PREFIX}${client.model}`, base_url: client.root, sha256: null, notebook_sha256: doc.model.sha256 },
    prompt: doc.prompt,
    truncated: 0,
    cells,
    timing: remoteTiming(performance.now() - started),
  };
  return { json, cells };
}
