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
const report = join(out, 'report.sarif');
const bin = join(root, 'node_modules/@doyensec/electronegativity/dist/index.js');
// The tool asks GitHub for Electron's releases; offline it says so and goes on with the checks.
const run = spawnSync(process.execPath, [bin, '-i', join(root, 'src'), '-o', report, '-r', '-e', electron], { cwd: root, encoding: 'utf8' });
if (run.status !== 0) {
  process.stderr.write(`electronegativity failed (exit ${run.status}):\n${run.stderr}\n${run.stdout}\n`);
  process.exit(1);
}

// SARIF, not CSV: the tool writes its CSV header and rows with two racing asynchronous writes.
const sarif = JSON.parse(readFileSync(report, 'utf8'));
rmSync(out, { recursive: true, force: true });
const findings = (sarif.runs?.[0]?.results ?? []).map((r) => {
  const where = r.locations?.[0]?.physicalLocation;
  return { check: r.ruleId, severity: r.level, file: where?.artifactLocation?.uri ?? '?', location: `${where?.region?.startLine ?? '?'}:${where?.region?.startColumn ?? '?'}`, description: r.message?.text ?? '' };
});
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
