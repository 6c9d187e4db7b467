import { enter, expect, ntl, test } from './fixtures';
import { NotebookPage } from './pages/notebook-page';

const PROMPT = 'The cat sat on the';

test.describe('the sampler chain in the Sample cell', () => {
  test('more samplers, stepped one token at a time, give the tokens of ntl generate with the same flags', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await nb.setPrompt(PROMPT);
    const set = (testid: string, value: string): Promise<void> => enter(page.getByTestId(testid), value);
    await page.getByTestId('sample-strategy').selectOption('top-p');
    await set('sample-temperature', '1.3');
    await set('sample-seed', '5');
    await set('sample-max-tokens', '8');
    await page.getByTestId('sample-knobs').locator('summary').click();
    await set('sample-min-p', '0.02');
    await set('sample-repetition-penalty', '1.3');
    await set('sample-mirostat-tau', '4');
    await expect(page.getByTestId('sample-knobs')).toContainText('3 set');
    for (let i = 1; i <= 3; i++) {
      await page.getByTestId('sample-step').click();
      await expect(page.getByTestId('sample-step-row')).toHaveCount(i);
    }
    const stepped = await page.getByTestId('sample-output').textContent();
    await page.getByTestId('sample-generate').click();
    await expect(nb.cell('sample')).toHaveAttribute('data-status', 'done');
    await expect(page.getByTestId('sample-step-row')).toHaveCount(8);
    const generated = ntl([
      'generate', '--model', 'seed-world', '--prompt', PROMPT, '--strategy', 'top-p', '--temperature', '1.3', '--top-p', '0.9',
      '--min-p', '0.02', '--repetition-penalty', '1.3', '--mirostat-tau', '4', '--seed', '5', '--max-tokens', '8',
    ]) as { text: string };
    await expect(page.getByTestId('sample-output')).toHaveText(generated.text);
    expect(generated.text.startsWith(stepped ?? '?')).toBe(true);
  });

  test('a knob out of range is refused at the control with its name and range, and kept until corrected', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await page.getByTestId('sample-knobs').locator('summary').click();
    await page.getByTestId('sample-min-p').fill('1.5');
    await page.getByTestId('sample-min-p').blur();
    await expect(page.getByTestId('sample-control-error')).toHaveText('min-p must be from 0 to 1, not 1.5.');
    await page.getByTestId('sample-order').fill('temperature, top-k, top-k');
    await page.getByTestId('sample-order').blur();
    await expect(page.getByTestId('sample-control-error')).toContainText('Order: each stage may appear only once.');
    await expect(page.getByTestId('sample-min-p')).toHaveValue('1.5');
    await expect(page.getByTestId('sample-order')).toHaveValue('temperature, top-k, top-k');
    await page.getByTestId('sample-min-p').fill('');
    await page.getByTestId('sample-min-p').blur();
    await page.getByTestId('sample-order').fill('');
    await page.getByTestId('sample-order').blur();
    await expect(page.getByTestId('sample-control-error')).toHaveCount(0);
  });

  test('the Sample cell opens the sampling documentation in the app', async ({ page }) => {
    const nb = new NotebookPage(page);
    await nb.waitForModel();
    await page.getByTestId('sampling-doc').locator('summary').click();
    await expect(page.getByTestId('sampling-doc')).toContainText('The default order');
    await expect(page.getByTestId('sampling-doc')).toContainText('Every filter keeps at least one token');
  });
});
