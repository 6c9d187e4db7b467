import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { enter, expect, ROOT, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

// Issue 19, item 7: one rule for input errors. The message names the field as the UI labels it and
// the range it allows; the box keeps what was typed until it is corrected; the message goes once it is.
test.describe('input errors', () => {
  test('the Sample cell: a refused number stays in its box with its field and range named, until corrected', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const error = page.getByTestId('sample-control-error');
    const type = (testid: string, text: string): Promise<void> => enter(page.getByTestId(testid), text);

    await page.getByTestId('sample-strategy').selectOption('top-p');
    await type('sample-top-p', '1.5');
    await expect(error).toHaveText('top-p must be greater than 0 and at most 1, not 1.5.');
    await expect(page.getByTestId('sample-top-p')).toHaveValue('1.5');
    await type('sample-top-p', '0.8');
    await expect(error).toHaveCount(0);

    await type('sample-seed', '-5');
    await expect(error).toHaveText('Seed must be a whole number from 0 to 4,294,967,295, not −5.');
    // Another change re-renders the cell: the refused text is still what the box shows.
    await type('sample-max-tokens', '0');
    await expect(error).toContainText('Seed must be a whole number from 0 to 4,294,967,295, not −5.');
    await expect(error).toContainText('Tokens must be a whole number from 1 to 256, not 0.');
    await expect(page.getByTestId('sample-seed')).toHaveValue('-5');
    await expect(page.getByTestId('sample-max-tokens')).toHaveValue('0');
    await type('sample-max-tokens', '100000');
    await expect(error).toContainText('Tokens must be a whole number from 1 to 256, not 100000.');
    await type('sample-seed', '5');
    await type('sample-max-tokens', '8');
    await expect(error).toHaveCount(0);
    await expect(page.getByTestId('sample-seed')).toHaveValue('5');

    // seed-world's vocabulary has 1,024 tokens.
    await page.getByTestId('sample-strategy').selectOption('top-k');
    await type('sample-top-k', '2000');
    await expect(error).toHaveText("top-k must be a whole number from 1 to 1,024 (the model's vocabulary size), not 2000.");
    await expect(page.getByTestId('sample-top-k')).toHaveValue('2000');
    await type('sample-top-k', '40');
    await expect(error).toHaveCount(0);
    await nb.runAllAndWait();
    await expect(page.getByTestId('sample-step-row')).toHaveCount(8);
  });

  test('a failed import names its cause; a later successful import clears the banner', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    const input = page.getByTestId('notebook-import-input');
    await input.setInputFiles({ name: 'comparison.json', mimeType: 'application/json', buffer: Buffer.from('{"columns": []}') });
    await expect(nb.errorBanner).toContainText('Could not import comparison.json');
    const good = readFileSync(join(ROOT, 'tests/node/fixtures/sun.ntl.json'));
    await input.setInputFiles({ name: 'sun.ntl.json', mimeType: 'application/json', buffer: good });
    await expect(page.getByTestId('notebook-status')).toContainText('Where the sun rises');
    await expect(nb.errorBanner).toHaveCount(0);
  });
});
