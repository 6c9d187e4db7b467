import type { Locator, Page } from '@playwright/test';
import { expect } from '@playwright/test';

/** A served model in the app: the Models panel's form and the served model's cells. */
export class RemotePage {
  readonly form: Locator;
  readonly banner: Locator;
  readonly predict: Locator;
  readonly surprisal: Locator;
  readonly compare: Locator;

  constructor(readonly page: Page) {
    this.form = page.getByTestId('remote-form');
    this.banner = page.getByTestId('remote-banner');
    this.predict = page.getByTestId('cell-predict');
    this.surprisal = page.getByTestId('cell-surprisal');
    this.compare = page.getByTestId('cell-compare');
  }

  /** Opens the Models panel, lists the server's models and uses `model`. */
  async use(baseUrl: string, model: string): Promise<void> {
    await this.page.getByTestId('models-open').click();
    await this.form.getByTestId('remote-base-url').fill(baseUrl);
    await this.form.getByTestId('remote-list').click();
    await expect(this.form.getByTestId('remote-model').locator('option')).toContainText([model]);
    await this.form.getByTestId('remote-model').selectOption(model);
    await this.form.getByTestId('remote-use').click();
    await expect(this.banner).toBeVisible();
    // The top bar names the served model in place of the local model's picker and backend.
    await expect(this.page.getByTestId('remote-badge')).toContainText(`Served model ${model} at `);
    await expect(this.page.getByTestId('model-select')).toHaveCount(0);
    await expect(this.page.getByTestId('backend')).toHaveCount(0);
  }

  async runAndWait(): Promise<void> {
    await this.banner.getByTestId('remote-run').click();
    await expect(this.surprisal).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  }

  async numbers(rows: Locator, attribute: string): Promise<(number | null)[]> {
    return (await rows.evaluateAll((els, name) => els.map((e) => e.getAttribute(name)), attribute)).map((v) => (v === null || v === '' ? null : Number(v)));
  }
}
