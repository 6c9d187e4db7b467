import { describe, expect, it } from 'vitest';
import { matchNotebookModel } from '../../src/common/notebook-model';

const installed = [
  { id: 'seed-world', sha256: 'a'.repeat(64) },
  { id: 'seed-world-copy', sha256: 'a'.repeat(64) },
  { id: 'other', sha256: 'b'.repeat(64) },
];

describe('a notebook model against the installed ones', () => {
  it('is fine when the id and the hash agree, or the notebook has no hash', () => {
    expect(matchNotebookModel({ id: 'seed-world', sha256: 'a'.repeat(64) }, installed)).toMatchObject({ status: 'ok', message: null });
    expect(matchNotebookModel({ id: 'other', sha256: null }, installed)).toMatchObject({ status: 'ok', matches: [] });
  });

  it('says when the model is missing and offers models with its hash', () => {
    const match = matchNotebookModel({ id: 'renamed', sha256: 'a'.repeat(64) }, installed);
    expect(match).toMatchObject({ status: 'missing', matches: ['seed-world', 'seed-world-copy'] });
    expect(match.message).toContain('model "renamed", which is not installed');
    expect(match.message).toContain('seed-world, seed-world-copy');
    expect(matchNotebookModel({ id: 'gone', sha256: 'c'.repeat(64) }, installed).message).toContain('No installed model has its ONNX file');
  });

  it('says when the installed model of that id has another hash', () => {
    const match = matchNotebookModel({ id: 'other', sha256: 'a'.repeat(64) }, installed);
    expect(match).toMatchObject({ status: 'hash-differs', matches: ['seed-world', 'seed-world-copy'] });
    expect(match.message).toContain('its ONNX file differs');
  });
});
