import { expect, type Locator, type Page } from '@playwright/test';

export const CELLS = ['tokenize', 'embed', 'attend', 'predict', 'sample'] as const;
export type Cell = (typeof CELLS)[number];

/** The notebook, found through the stable test ids of the architecture guide. */
export class NotebookPage {
  readonly prompt: Locator;
  readonly runAll: Locator;
  readonly errorBanner: Locator;
  readonly backend: Locator;

  constructor(readonly page: Page) {
    this.prompt = page.getByTestId('prompt-input');
    this.runAll = page.getByTestId('run-all');
    this.errorBanner = page.getByTestId('error-banner');
    this.backend = page.getByTestId('backend');
  }

  cell(kind: Cell): Locator {
    return this.page.getByTestId(`cell-${kind}`);
  }

  async waitForModel(): Promise<void> {
    await expect(this.backend).toContainText(/wasm|webgpu/, { timeout: 60_000 });
    await expect(this.runAll).toBeEnabled();
  }

  async setPrompt(text: string): Promise<void> {
    await this.prompt.fill(text);
  }

  async runAllAndWait(): Promise<void> {
    await this.runAll.click();
    for (const kind of CELLS) await expect(this.cell(kind)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  }

  async status(kind: Cell): Promise<string | null> {
    return this.cell(kind).getAttribute('data-status');
  }

  async tokenIds(): Promise<number[]> {
    const ids = await this.page.getByTestId('token-chip').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
    return ids;
  }

  async topPrediction(): Promise<{ id: number; text: string }> {
    const row = this.page.getByTestId('predict-row').first();
    return { id: Number(await row.getAttribute('data-id')), text: (await row.textContent()) ?? '' };
  }

  async longTasks(): Promise<number[]> {
    return this.page.evaluate(() => (globalThis as unknown as { __longTasks: number[] }).__longTasks);
  }

  async resetLongTasks(): Promise<void> {
    await this.page.evaluate(() => {
      (globalThis as unknown as { __longTasks: number[] }).__longTasks.length = 0;
    });
  }
}
