import type { z } from 'zod';

/** The value at `path` inside `input`, or undefined where the path leads nowhere. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Reflect.get(value, key);
  }
  return value;
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

/** What a value found in a file is, in words: `the text "1024"`, `a list`, `null`. */
function found(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * One schema problem in words a person can act on, for messages of the form
 * `config.json: field "vocab_size": is missing: expected a whole number above 0`.
 * Messages a schema words itself are kept; zod's own ("Invalid input: expected number, received
 * undefined", "Too small: expected number to be >=0") are said again with the value found.
 */
export function issueWords(issue: z.ZodError['issues'][number] | undefined, input: unknown): string {
  if (!issue) return 'invalid';
  if (!/^(Invalid|Too (small|big))\b/.test(issue.message)) return issue.message;
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      return value === undefined ? `is missing: expected ${expected}` : `expected ${expected}, found ${found(value)}`;
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(' or ');
      return value === undefined ? `is missing: expected ${allowed}` : `expected ${allowed}, found ${found(value)}`;
    }
    case 'too_small':
      return `must be ${issue.inclusive === false ? 'above' : 'at least'} ${String(issue.minimum)}${issue.origin === 'array' || issue.origin === 'string' ? ` ${issue.origin === 'array' ? 'items' : 'characters'} long` : ''}, found ${found(value)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'below' : 'at most'} ${String(issue.maximum)}${issue.origin === 'array' || issue.origin === 'string' ? ` ${issue.origin === 'array' ? 'items' : 'characters'} long` : ''}, found ${found(value)}`;
    default:
      return issue.message;
  }
}

/** `file: field "a.b": <the problem in words>`: the first problem of a failed parse. */
export function describeIssue(file: string, error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  return `${file}: field "${issue?.path.map(String).join('.') || '(root)'}": ${issueWords(issue, input)}`;
}
