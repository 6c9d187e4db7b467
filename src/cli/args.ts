import { parseArgs } from 'node:util';
import { SAMPLER_OPTIONS } from './sampler-options';

/** A mistake in how the command was called: reported with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type OptionSpec = { type: 'string'; multiple?: boolean } | { type: 'boolean' };

/** `--variant fp16|quantized|q4|...` picks one ONNX file of a model folder (transformers.js's suffixes); the full-precision one by default. */
const COMMON = { model: { type: 'string' }, variant: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } as const;
const RUNTIME = { backend: { type: 'string' }, threads: { type: 'string' } } as const;

/** The options each command accepts; anything else is refused. */
export const COMMAND_OPTIONS = {
  models: { ...COMMON },
  import: { json: { type: 'boolean' }, help: { type: 'boolean' } },
  tokenize: { ...COMMON, prompt: { type: 'string' } },
  predict: {
    ...COMMON,
    ...RUNTIME,
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
    ...SAMPLER_OPTIONS,
    prompt: { type: 'string' },
    strategy: { type: 'string' },
    seed: { type: 'string' },
    'max-tokens': { type: 'string' },
    'no-cache': { type: 'boolean' },
  },
  compare: { ...COMMON, ...RUNTIME, spec: { type: 'string' } },
  context: { ...COMMON, ...RUNTIME, a: { type: 'string' }, b: { type: 'string' }, word: { type: 'string' } },
  run: { ...COMMON, ...RUNTIME, out: { type: 'string' } },
} as const satisfies Record<string, Record<string, OptionSpec>>;

export type CommandName = keyof typeof COMMAND_OPTIONS;

export function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_OPTIONS, name);
}

export interface ParsedCommand {
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
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

/** A repeatable option: every value given, in order. */
export function listOption(values: ParsedCommand['values'], name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function stringOption(values: ParsedCommand['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A number option; `integer` refuses fractions. The message names the option and the value. */
export function numberOption(values: ParsedCommand['values'], name: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name}: expected a number, got "${text}"`);
  if (options.integer && !Number.isInteger(value)) throw new UsageError(`--${name}: expected a whole number, got "${text}"`);
  if (options.min !== undefined && value < options.min) throw new UsageError(`--${name}: must be at least ${options.min}, got ${text}`);
  if (options.max !== undefined && value > options.max) throw new UsageError(`--${name}: must be at most ${options.max}, got ${text}`);
  return value;
}
