import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { FilesPage } from './pages/files-page';
import { NotebookPage } from './pages/notebook-page';

/** The window's side of docs/hostile-inputs.md: what the user sees of files the services refuse. */
test.describe('hostile files in the window', () => {
  test('an oversized import and a link out of the workspace are named with their cause; the notebook keeps working', async ({ page, server }) => {
    const outside = mkdtempSync(join(tmpdir(), 'ntl-e2e-outside-'));
    const secret = join(outside, 'secret.ntl.json');
    writeFileSync(secret, '{"not": "for the app"}');
    const link = join(server.workspace, 'Link out.ntl.json');
    symlinkSync(secret, link);
    // The server and its workspace are shared with the other specs of this worker: leave them as found.
    try {
      const nb = new NotebookPage(page);
      const files = new FilesPage(page);
      await nb.waitForModel();

      // A 20 MB file picked with Import…: refused from its size, never read or parsed.
      await page.getByTestId('notebook-import-input').setInputFiles({ name: 'huge.ntl.json', mimeType: 'application/json', buffer: Buffer.alloc(20 * 1024 * 1024, 0x20) });
      await expect(nb.errorBanner).toContainText('Could not import huge.ntl.json: huge.ntl.json: refused: 20.0 MiB is more than a notebook can be (at most 16.0 MiB)');

      await files.openSidebar();
      const entry = files.entry('Link out.ntl.json');
      await expect(entry).toHaveAttribute('data-damaged', 'true');
      await expect(entry.getByTestId('entry-damaged')).toContainText(`Link out.ntl.json: refused: it is a link to ${secret}, outside the workspace`);
      expect(readFileSync(secret, 'utf8')).toBe('{"not": "for the app"}');

      await nb.runAllAndWait();
      await expect(nb.errorBanner).toHaveCount(0);
    } finally {
      rmSync(link, { force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
