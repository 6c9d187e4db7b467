import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

/** The window's size and place, remembered between runs (`window-state.json` in the user data folder). */
export const WindowState = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(480).max(20_000),
  height: z.number().int().min(360).max(20_000),
  isMaximized: z.boolean().default(false),
});
export type WindowState = z.infer<typeof WindowState>;

interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_WINDOW: WindowState = { width: 1280, height: 860, isMaximized: false };

/**
 * The remembered state, or the default when there is none or it is damaged. A position on no
 * display (a monitor since unplugged) is dropped, so the window never opens out of sight.
 */
export async function loadWindowState(file: string, displays: readonly Area[]): Promise<WindowState> {
  let state: WindowState;
  try {
    state = WindowState.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return DEFAULT_WINDOW;
  }
  const { x, y } = state;
  if (x === undefined || y === undefined) return state;
  // At least the title bar's first 100 × 40 pixels must be on a display.
  const isVisible = displays.some((d) => x + 100 > d.x && x < d.x + d.width - 40 && y >= d.y && y + 40 <= d.y + d.height);
  return isVisible ? state : { width: state.width, height: state.height, isMaximized: state.isMaximized };
}

/**
 * Remembers the window's state, written before it returns: on `close` the process may end before an
 * asynchronous write has run, and the state would be lost. A few bytes, so the wait is nothing.
 */
export function saveWindowStateSync(file: string, state: WindowState): void {
  const parsed = WindowState.safeParse(state);
  if (!parsed.success) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(parsed.data)}\n`);
  renameSync(`${file}.tmp`, file);
}
