/** The parsed options of a command and how a command reads them, each mistake a UsageError naming the flag. */

/** A mistake in how the command was called: reported with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedCommand {
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
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
