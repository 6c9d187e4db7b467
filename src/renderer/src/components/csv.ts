/** CSV with RFC 4180 quoting. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cell = (v: string | number): string => {
    const s = typeof v === 'number' ? String(v) : v;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** A file-name-safe slug. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'chart';
}

/** Parses RFC 4180 CSV (as `toCsv` writes it) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') inQuotes = false;
      else field += c;
    } else if (c === '"') inQuotes = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/**
 * A table's CSV as JSON records, one object a row keyed by the header. A column whose every value
 * is a number becomes numbers; any other column stays text (a token "42" among words stays "42").
 */
export function csvToRecords(csv: string): Record<string, string | number>[] {
  const [header, ...rows] = parseCsv(csv);
  if (!header) return [];
  const isNumeric = header.map((_, col) => rows.length > 0 && rows.every((r) => NUMBER.test(r[col] ?? '')));
  return rows.map((r) => Object.fromEntries(header.map((name, col) => [name, isNumeric[col] ? Number(r[col]) : (r[col] ?? '')])));
}
