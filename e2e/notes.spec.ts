import { expect, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

test.describe('note cells', () => {
  test('a Markdown note between cells is rendered safely, saved with the notebook and opened again', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await page.getByTestId('add-note-0').click();
    const note = page.getByTestId('note-cell');
    await expect(note).toHaveCount(1);
    await page.getByTestId('note-editor').fill('**Tokens** are the *pieces*: `The` is one.\n\n<img src=x onerror="document.title=\'owned\'"> <script>document.title="owned"</script>\n\n- one\n- two');
    await page.getByTestId('note-done').click();
    const body = page.getByTestId('note-body');
    await expect(body.locator('strong')).toHaveText('Tokens');
    await expect(body.locator('em')).toHaveText('pieces');
    await expect(body.locator('li')).toHaveCount(2);
    await expect(body.locator('img, script')).toHaveCount(0);
    expect(await page.title()).not.toBe('owned');
    // The note sits between Tokenize and Embed.
    const order = await page.locator('[data-testid="cell-tokenize"], [data-testid="note-cell"], [data-testid="cell-embed"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    expect(order).toEqual(['cell-tokenize', 'note-cell', 'cell-embed']);

    await page.getByTestId('notebook-name').fill('With a note');
    await page.getByTestId('notebook-save').click();
    await page.reload();
    await nb.waitForModel();
    await expect(page.getByTestId('note-cell')).toHaveCount(0);
    await page.getByTestId('notebook-open').click();
    await page.getByRole('button', { name: 'With a note' }).click();
    await expect(page.getByTestId('note-body').locator('strong')).toHaveText('Tokens');
    await page.getByTestId('note-edit').click();
    await page.getByTestId('note-remove').click();
    await expect(page.getByTestId('note-cell')).toHaveCount(0);
  });
});
