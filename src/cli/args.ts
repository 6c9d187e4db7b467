import { parseArgs } from 'node:util';
import { SAMPLER_OPTIONS } from './sampler-options';
import { UsageError, type ParsedCommand } from './option-values';

export { UsageError, listOption, numberOption, stringOption, type ParsedCommand } from './option-values';

type OptionSpec = { type: 'string'; multiple?: boolean } | { type: 'boolean' };

/** `--variant fp16|quantized|q4|...` picks one ONNX file of a model folder (transformers.js's suffixes); the full-precision one by default. */
const COMMON = { model: { type: 'string' }, variant: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } as const;
const RUNTIME = { backend: { type: 'string' }, threads: { type: 'string' } } as const;
/** A served model (`--model remote:NAME`): where, and how long to wait for an answer (seconds). */
const REMOTE = { 'base-url': { type: 'string' }, timeout: { type: 'string' } } as const;

/** The options each command accepts; anything else is refused. */
export const COMMAND_OPTIONS = {
  models: { ...COMMON },
  import: { json: { type: 'boolean' }, help: { type: 'boolean' } },
  tokenize: { ...COMMON, ...REMOTE, prompt: { type: 'string' } },
  predict: {
    ...COMMON,
    ...RUNTIME,
    ...REMOTE,
    prompt: { type: 'string' },
    top: { type: 'string' },
    temperature: { type: 'string' },
    /** `L:H`, repeatable: heads switched off (docs: interventions). */
    'ablate-head': { type: 'string', multiple: true },
  },
  attention: { ...COMMON, ...RUNTIME, prompt: { type: 'string' }, layer: { type: 'string' }, head: { type: 'string' } },
  generate: {
    ...COMMON,
    ...RUNTIME,
    ...REMOTE,
    ...SAMPLER_OPTIONS,
    prompt: { type: 'string' },
    strategy: { type: 'string' },
    seed: { type: 'string' },
    'max-tokens': { type: 'string' },
    'no-cache': { type: 'boolean' },
  },
  compare: { ...COMMON, ...RUNTIME, ...REMOTE, spec: { type: 'string' } },
  context: { ...COMMON, ...RUNTIME, a: { type: 'string' }, b: { type: 'string' }, word: { type: 'string' } },
  run: { ...COMMON, ...RUNTIME, ...REMOTE, out: { type: 'string' } },
  /** Every prompt token's probability and rank under the model. */
  surprisal: { ...COMMON, ...RUNTIME, ...REMOTE, prompt: { type: 'string' }, top: { type: 'string' } },
  /** The lab's models over the OpenAI-compatible API; `--model` repeatable. */
  'serve-openai': { ...COMMON, ...RUNTIME, model: { type: 'string', multiple: true }, port: { type: 'string' } },
} as const satisfies Record<string, Record<string, OptionSpec>>;

export type CommandName = keyof typeof COMMAND_OPTIONS;

export function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_OPTIONS, name);
}

/** `--flag -1` as `--flag=-1`: parseArgs would take "-1" for an option of its own. */
function joinNegativeNumbers(args: string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const next = args[i + 1];
    if (arg.startsWith('--') && options[arg.slice(2)]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export function parseCommand(command: CommandName, args: string[]): ParsedCommand {
  try {
    const options: Record<string, OptionSpec> = COMMAND_OPTIONS[command];
    const { values, positionals } = parseArgs({ args: joinNegativeNumbers(args, options), options, strict: true, allowPositionals: command === 'run' || command === 'import' });
    const plain: ParsedCommand['values'] = {};
    for (const [key, value] of Object.entries(values) as [string, unknown][]) {
      plain[key] = typeof value === 'string' || typeof value === 'boolean' ? value : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
    }
    return { values: plain, positionals };
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.split('\n')[0] ?? cause.message : String(cause);
    throw new UsageError(`${command}: ${message.replace(/^Unknown option/, 'unknown option')}`);
  }
}
