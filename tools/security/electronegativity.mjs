// Runs @doyensec/electronegativity (Electron security checks) over src/ and fails on any finding
// that tools/security/electronegativity-allowlist.json does not explain; an allow-list entry that no
// longer matches a finding fails too, so the list stays true.
//
//   node tools/security/electronegativity.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const electron = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.electron;
const allowList = JSON.parse(readFileSync(join(root, 'tools/security/electronegativity-allowlist.json'), 'utf8'));
const out = mkdtempSync(join(tmpdir(), 'ntl-electronegativity-'));
const report = join(out, 'report.csv');
const bin = join(root, 'node_modules/@doyensec/electronegativity/dist/index.js');
// The tool asks GitHub for Electron's releases; offline it says so and goes on with the checks.
const run = spawnSync(process.execPath, [bin, '-i', join(root, 'src'), '-o', report, '-r', '-e', electron], { cwd: root, encoding: 'utf8' });
if (run.status !== 0) {
  process.stderr.write(`electronegativity failed (exit ${run.status}):\n${run.stderr}\n${run.stdout}\n`);
  process.exit(1);
}

/** Rows of a CSV file with quoted fields. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field.trim());
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (quoted) field += c;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else if (c !== '\r') field += c;
  }
  if (field || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}

const [header, ...rows] = parseCsv(readFileSync(report, 'utf8'));
rmSync(out, { recursive: true, force: true });
const col = (name) => header.indexOf(name);
const findings = rows.filter((r) => r.length > 3).map((r) => ({ check: r[col('issue')], severity: r[col('severity')], file: r[col('filename')], location: r[col('location')], description: r[col('description')] }));
const explained = (f) => allowList.find((a) => a.check === f.check && a.file === f.file);
const unexplained = findings.filter((f) => !explained(f));
const stale = allowList.filter((a) => !findings.some((f) => f.check === a.check && f.file === a.file));
for (const f of findings) {
  const a = explained(f);
  process.stdout.write(`${a ? 'allowed ' : 'FINDING '} ${f.check} ${f.severity} src/${f.file}:${f.location}: ${a ? a.reason : f.description}\n`);
}
for (const a of stale) process.stdout.write(`STALE    allow-list entry ${a.check} src/${a.file} matches no finding: remove it\n`);
process.stdout.write(`electronegativity: ${findings.length} findings, ${unexplained.length} unexplained, ${stale.length} stale allow-list entries\n`);
process.exit(unexplained.length + stale.length > 0 ? 1 : 0);
