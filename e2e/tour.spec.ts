import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, ntl, test, waitForIdle } from './fixtures';
import { CELLS, NotebookPage } from './pages/notebook-page';

test.describe('the guided tour', () => {
  // The tour opens the first time a workspace is used: a workspace of its own, untouched by other tests.
  test.use({ ownWorkspace: true });

  test('opens the first time, and its notes fill in from the live run', async ({ page, server }) => {
    // The test servers mark their workspace as welcomed; this one is made new again, once the page
    // the test began on has asked whether to open the tour (else it could take the tour first).
    await expect(page.locator('.app')).toHaveAttribute('data-started', 'true');
    rmSync(join(server.workspace, '.welcome'), { force: true });
    await page.goto(server.url);
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await expect(page.getByTestId('notebook-name')).toHaveValue('Guided tour');
    const notes = page.getByTestId('note-rendered');
    await expect(notes).toHaveCount(6);
    await expect(notes.nth(0)).toContainText('seed-world: 3 layers, 4 attention heads in each, vectors of 128 numbers, a vocabulary of 1,024 tokens');
    // A notebook on a model this small runs as it opens (issue 19): its notes fill in without Run all.
    for (const kind of CELLS) await expect(nb.cell(kind)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    const tokens = ntl(['tokenize', '--prompt', 'The sun rises in the']) as { tokens: { id: number }[] };
    await expect(notes.nth(1)).toContainText(`becomes ${tokens.tokens.length} tokens`);
    await expect(notes.nth(1)).toContainText(`with ids ${tokens.tokens.map((t) => t.id).join(', ')}`);
    // The roundtable, measured: layer 1, head 2, the row of "␣rises".
    const attention = ntl(['attention', '--prompt', 'The sun rises in the', '--layer', '1', '--head', '2']) as { attention: number[][][][] };
    const row = attention.attention[0]?.[0]?.[2] ?? [];
    expect(row[1]).toBeGreaterThan(row[0] ?? 1);
    await expect(notes.nth(3)).toContainText(`␣rises takes ${((row[1] ?? 0) * 100).toFixed(1)}% of its context from ␣sun and keeps ${((row[2] ?? 0) * 100).toFixed(1)}% for itself`);
    const predicted = ntl(['predict', '--prompt', 'The sun rises in the', '--top', '2']) as { top: { token: string; prob: number }[] };
    await expect(notes.nth(4)).toContainText(`The model's favourite is ${predicted.top[0]?.token.replace(' ', '␣')} with`);
    await expect(notes.nth(5)).toContainText('continued the prompt with');
    await expect(notes.nth(5)).not.toContainText('(run the notebook)');

    // Offered once: the next start opens a blank notebook.
    await page.goto(server.url);
    await nb.waitForModel();
    await expect(page.getByTestId('notebook-name')).toHaveValue('Untitled');
    // What the start queued has run, and the tour has still not opened.
    await waitForIdle(page);
    await expect(page.getByTestId('notebook-name')).toHaveValue('Untitled');
  });
});
