import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/common/model-config';
import { parseNotebook } from '../../src/common/notebook-format';

describe('file problems in words: file, field, what was expected, what was found (issue 19)', () => {
  const config = { model_type: 'gpt2', vocab_size: 1024, n_layer: 3, n_head: 4, n_embd: 128, n_positions: 128 };

  it('a model config', () => {
    const missing: Record<string, unknown> = { ...config };
    delete missing['vocab_size'];
    expect(() => parseModelConfig(missing)).toThrow('config.json: field "vocab_size": is missing: expected a number');
    expect(() => parseModelConfig({ ...config, vocab_size: '1024' })).toThrow('config.json: field "vocab_size": expected a number, found the text "1024"');
    expect(() => parseModelConfig({ ...config, n_layer: 0 })).toThrow('config.json: field "n_layer": must be above 0, found 0');
    for (const bad of [missing, { ...config, vocab_size: '1024' }, { ...config, n_layer: 0 }]) expect(() => parseModelConfig(bad)).not.toThrow(/Invalid input|Too small|received undefined/);
  });

  it('a comparison imported as a notebook is named for what it is', () => {
    expect(() => parseNotebook({ format: 'next-token-lab-comparison', version: 1, columns: [] }, 'comparison.json')).toThrow(
      'comparison.json: field "format": this is a comparison exported from the Compare cell ("next-token-lab-comparison"), not a notebook; import a notebook file (.ntl.json, "format": "next-token-lab-notebook")',
    );
    expect(() => parseNotebook({ version: 3 }, 'x.json')).toThrow('x.json: field "format": is missing: expected "next-token-lab-notebook"');
    expect(() => parseNotebook({ format: 'other', version: 3 }, 'x.json')).toThrow('x.json: field "format": expected "next-token-lab-notebook", found the text "other"');
  });

  it('a cell parameter out of range', () => {
    const doc = { format: 'next-token-lab-notebook', version: 3, name: 'n', prompt: 'p', model: { id: 'seed-world', sha256: null }, backend: null, appVersion: '0.1.0', savedAt: '2026-12-01T00:00:00.000Z' };
    expect(() => parseNotebook({ ...doc, cells: [{ id: 's', kind: 'sample', params: { seed: -5 } }] }, 'a.ntl.json')).toThrow('a.ntl.json: cell "s" (sample) parameter "seed": must be at least 0, found -5');
  });
});
