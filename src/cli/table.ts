export type Cell = string | number | null;

export interface Column {
  title: string;
  /** Numbers are right-aligned, text left-aligned. */
  align?: 'left' | 'right';
}

function show(value: Cell): string {
  if (value === null) return '-';
  return String(value);
}

/** A compact table: a header row, then one line per row, columns separated by two spaces. */
export function table(columns: Column[], rows: Cell[][]): string {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => [...show(r[i] ?? null)].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        const pad = ' '.repeat(Math.max(0, width - [...cell].length));
        return columns[i]?.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map((r) => line(columns.map((_, i) => show(r[i] ?? null))))].join('\n');
}

/** A token's text quoted so that leading spaces and newlines show. */
export function quoted(text: string): string {
  return JSON.stringify(text);
}

export function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}
