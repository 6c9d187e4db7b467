import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Lints files as `npm run lint` does (the project's eslint.config.mjs), returning each message with its rule. */
async function lint(files: Record<string, string>): Promise<{ file: string; rule: string | null; message: string }[]> {
  const paths = Object.keys(files).map((f) => join(ROOT, f));
  Object.entries(files).forEach(([f, text]) => writeFileSync(join(ROOT, f), text));
  try {
    const results = await new ESLint({ cwd: ROOT }).lintFiles(paths);
    return results.flatMap((r) => r.messages.map((m) => ({ file: r.filePath.slice(ROOT.length + 1), rule: m.ruleId, message: m.message })));
  } finally {
    for (const p of paths) rmSync(p, { force: true });
  }
}

describe('the layers of src/ as lint rules (tools/lint/layers.mjs)', () => {
  it('fails on a forbidden import: common may not import the engine, the engine not the UI or the Node services', async () => {
    const messages = await lint({
      'src/common/.lint-deliberate.ts': "import { OnnxModel } from '../engine/session';\nexport const x = OnnxModel;\n",
      'src/engine/.lint-deliberate.ts': "import { ModelRegistry } from '../node/model-registry';\nexport const y = ModelRegistry;\n",
    });
    expect(messages.filter((m) => m.rule === 'layers/allowed-imports')).toEqual([
      { file: 'src/common/.lint-deliberate.ts', rule: 'layers/allowed-imports', message: 'src/common may not import src/engine (../engine/session): common may import src/common' },
      { file: 'src/engine/.lint-deliberate.ts', rule: 'layers/allowed-imports', message: 'src/engine may not import src/node (../node/model-registry): engine may import src/common, src/engine' },
    ]);
  });

  it('fails on an import cycle, naming its path; type-only imports do not count', async () => {
    const messages = await lint({
      'src/cli/.lint-cycle-a.ts': "import { b } from './.lint-cycle-b';\nexport const a = (): number => b + 1;\n",
      'src/cli/.lint-cycle-b.ts': "import { a } from './.lint-cycle-a';\nexport const b = 2;\nexport const c = a;\n",
      'src/cli/.lint-types-a.ts': "import type { D } from './.lint-types-b';\nexport type E = D;\nexport const e = 1;\n",
      'src/cli/.lint-types-b.ts': "import { e } from './.lint-types-a';\nexport type D = number;\nexport const d = e;\n",
    });
    expect(messages.filter((m) => m.rule === 'layers/no-cycle')).toEqual([
      { file: 'src/cli/.lint-cycle-a.ts', rule: 'layers/no-cycle', message: 'import cycle: src/cli/.lint-cycle-a.ts → src/cli/.lint-cycle-b.ts → src/cli/.lint-cycle-a.ts' },
      { file: 'src/cli/.lint-cycle-b.ts', rule: 'layers/no-cycle', message: 'import cycle: src/cli/.lint-cycle-b.ts → src/cli/.lint-cycle-a.ts → src/cli/.lint-cycle-b.ts' },
    ]);
  });

  it('passes on the project as it is', async () => {
    const results = await new ESLint({ cwd: ROOT }).lintFiles([join(ROOT, 'src/cli'), join(ROOT, 'src/common')]);
    expect(results.flatMap((r) => r.messages.filter((m) => m.ruleId?.startsWith('layers/')))).toEqual([]);
  });
});
