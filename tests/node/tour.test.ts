import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotebookStore, TOUR_FILE } from '../../src/node/notebook-store';
import { projectRoot, tempDir } from './helpers';

const TOUR = join(projectRoot, 'resources', 'notebooks', 'guided-tour.ntl.json');

describe('the guided tour', () => {
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
