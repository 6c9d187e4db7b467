import type { ModelSource } from '../engine/contract';
import { UsageError, stringOption, type ParsedCommand } from './args';

/** What a command prints: the JSON object for `--json`, and the text for people. */
export interface CommandOutput {
  /** Which engine computed the numbers (`--json` carries it as `source`): the model that ran says. */
  source: ModelSource;
  json: unknown;
  text: string;
}

/** Checks the prompt before anything slow happens. */
export function promptOption(values: ParsedCommand['values']): string {
  const prompt = stringOption(values, 'prompt');
  if (prompt === undefined) throw new UsageError('--prompt is required');
  if (prompt === '') throw new UsageError('the prompt is empty');
  return prompt;
}

/** The timing line under every command's text. */
export function timingLine(t: { backend: string; threads: number; load_ms: number; forward_ms: number }): string {
  return `${t.backend}, ${t.threads} thread${t.threads === 1 ? '' : 's'} · load ${t.load_ms} ms · forward ${t.forward_ms} ms`;
}
