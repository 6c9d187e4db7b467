import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isNoteCell, parseNotebook } from '../../src/common/notebook-format';
import { NotebookStore, TOUR_FILE } from '../../src/main/services/notebook-store';
import { LIVE_FIELDS } from '../../src/renderer/src/notes/live-fields';
import { projectRoot, tempDir } from './helpers';

const TOUR = join(projectRoot, 'resources', 'notebooks', 'guided-tour.ntl.json');

describe('the guided tour', () => {
  it('is a valid notebook: six steps in notes, every {{field}} one the app fills in, Attend on "rises" in layer 1, head 2', () => {
    const doc = parseNotebook(JSON.parse(readFileSync(TOUR, 'utf8')), TOUR);
    const notes = doc.cells.filter(isNoteCell);
    expect(notes).toHaveLength(6);
    expect(notes.map((n) => n.text.split('\n')[0])).toEqual([
      '# A guided tour: how a model chooses the next token',
      '## 1. Text becomes tokens',
      '## 2. Each token becomes a vector, and 3. learns where it stands',
      '## 4. Layers of attention and MLP',
      '## 5. Softmax: one probability for every token',
      '## 6. Choose, append, repeat',
    ]);
    const fields = notes.flatMap((n) => [...n.text.matchAll(/\{\{\s*([a-z0-9_.]+)\s*\}\}/g)].map((m) => m[1]));
    expect(fields.length).toBeGreaterThan(20);
    for (const field of fields) expect(Object.keys(LIVE_FIELDS)).toContain(field);
    expect(doc.cells.find((c) => c.kind === 'attend')).toMatchObject({ params: { layer: 1, head: 2, query: 2 } });
    expect(notes[3]?.text).toContain('roundtable');
  });

  it('is put into a workspace the first time only, and never replaces a notebook of that name', async () => {
    const dir = await tempDir('tour');
    const store = new NotebookStore(dir, { tour: TOUR });
    expect(await store.firstRun()).toBe(TOUR_FILE);
    expect((await store.list()).map((e) => e.name)).toEqual(['Guided tour']);
    expect(await store.firstRun()).toBeNull();

    const other = await tempDir('tour-kept');
    await writeFile(join(other, TOUR_FILE), 'my own notes, not JSON');
    expect(await new NotebookStore(other, { tour: TOUR }).firstRun()).toBe(TOUR_FILE);
    expect(await readFile(join(other, TOUR_FILE), 'utf8')).toBe('my own notes, not JSON');

    // Without a tour (a build that ships none), nothing is opened.
    expect(await new NotebookStore(await tempDir('tour-none')).firstRun()).toBeNull();
  });
});
