import { readdirSync } from 'node:fs';
import { expect, test } from './fixtures';
import { FilesPage } from './pages/files-page';
import { NotebookPage } from './pages/notebook-page';

/** The notebook files in the workspace (not drafts, backups or the trash). */
function notebookFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ntl.json'))
    .sort();
}

test.describe("a new user's first hour (issue 19)", () => {
  test('opening the app writes no file; each New notebook gets a name of its own once it is worth keeping', async ({ page, server }) => {
    const nb = new NotebookPage(page);
    const files = new FilesPage(page);
    const before = notebookFiles(server.workspace);
    await nb.waitForModel();
    // A run alone is cheap to do again: nothing to keep yet.
    await nb.runAllAndWait();
    await expect(files.status).toHaveAttribute('data-dirty', 'false');
    await expect(files.status).toHaveText('Not saved yet');
    expect(notebookFiles(server.workspace)).toEqual(before);

    // Three notebooks, each changed: three files, three names in the sidebar and in Recent.
    const made: string[] = [];
    for (const prompt of ['The moon rises in the', 'The stars rise in the', 'The sun sets in the']) {
      await page.getByTestId('notebook-new').click();
      await expect(files.status).toHaveText('Not saved yet');
      await nb.setPrompt(prompt);
      await files.waitSaved();
      made.push((await files.name.inputValue()).trim());
    }
    const added = notebookFiles(server.workspace).filter((f) => !before.includes(f));
    expect(added).toHaveLength(3);
    expect(new Set(made).size).toBe(3);
    for (const name of made) expect(added).toContain(`${name}.ntl.json`);
    await files.openSidebar();
    for (const file of added) await expect(files.entry(file).locator('.entry-name')).toHaveText(file.replace(/\.ntl\.json$/, ''));
    const recent = await page.getByTestId('recent-entry').allTextContents();
    expect(new Set(recent).size).toBe(recent.length);
    await expect(page).toHaveTitle(`${made[2]} — Next Token Lab`);
  });
});
