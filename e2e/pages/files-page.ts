import { expect, type Locator, type Page } from '@playwright/test';

/** The notebook's file controls, the workspace sidebar and the notes. */
export class FilesPage {
  readonly status: Locator;
  readonly name: Locator;
  readonly sidebar: Locator;

  constructor(readonly page: Page) {
    this.status = page.getByTestId('notebook-status');
    this.name = page.getByTestId('notebook-name');
    this.sidebar = page.getByTestId('sidebar');
  }

  /** Waits until autosave has written every change. */
  async waitSaved(): Promise<void> {
    await expect(this.status).toHaveAttribute('data-dirty', 'false', { timeout: 20_000 });
    await expect(this.status).toContainText('Saved · ');
  }

  async openSidebar(): Promise<void> {
    if (!(await this.sidebar.isVisible())) await this.page.getByTestId('sidebar-toggle').click();
    await expect(this.sidebar).toBeVisible();
  }

  entry(file: string): Locator {
    return this.page.locator(`[data-testid="notebook-entry"][data-file="${file}"]`);
  }

  /** Adds a note after the cell at `position` of the add buttons (0: at the top) and types Markdown into it. */
  async addNote(position: number, text: string): Promise<void> {
    await this.page.getByTestId('add-note').nth(position).click();
    const editor = this.page.getByTestId('note-text');
    await expect(editor).toHaveCount(1);
    await editor.fill(text);
    await this.page.getByTestId('note-done').click();
    await expect(editor).toHaveCount(0);
  }

  /** Clicks an action that downloads a file and returns the file's bytes and suggested name. */
  async download(action: Locator): Promise<{ name: string; bytes: Buffer }> {
    const download = this.page.waitForEvent('download');
    await action.click();
    const file = await download;
    const chunks: Buffer[] = [];
    for await (const chunk of await file.createReadStream()) chunks.push(chunk as Buffer);
    return { name: file.suggestedFilename(), bytes: Buffer.concat(chunks) };
  }
}
