import { expect, type Locator, type Page } from '@playwright/test';
import { enter } from '../fixtures';

/** The Compare cell, found through its test ids. */
export class ComparePage {
  readonly cell: Locator;
  readonly columns: Locator;
  readonly outputs: Locator;
  readonly controlError: Locator;
  readonly tree: Locator;

  constructor(readonly page: Page) {
    this.cell = page.getByTestId('cell-compare');
    this.columns = this.cell.getByTestId('compare-column');
    this.outputs = this.cell.getByTestId('compare-output');
    this.controlError = this.cell.getByTestId('compare-control-error');
    this.tree = this.cell.getByTestId('chart-compare-tree');
  }

  column(index: number): Locator {
    return this.columns.nth(index);
  }

  async setField(index: number, testid: string, value: string): Promise<void> {
    await enter(this.column(index).getByTestId(testid), value);
  }

  async setMaxTokens(n: number): Promise<void> {
    await enter(this.cell.getByTestId('compare-max-tokens'), String(n));
  }

  async runAndWait(): Promise<void> {
    await this.cell.getByTestId('compare-run').click();
    await expect(this.cell).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  }

  /** Ids of a column's generated tokens, in order. */
  async tokenIds(index: number): Promise<number[]> {
    return this.column(index).getByTestId('compare-step-token').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
  }

  async selectStep(index: number, step: number): Promise<void> {
    await this.column(index).locator(`[data-testid="compare-step-token"][data-step="${step}"]`).click();
    await expect(this.cell.getByTestId('compare-detail')).toBeVisible();
  }

  /** The alternatives of the selected step that can be forked from (not the chosen token). */
  forkable(): Locator {
    return this.cell.locator('[data-testid="compare-alternative"]:not([disabled])');
  }
}
