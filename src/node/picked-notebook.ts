import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { PickedNotebookFile } from '../common/api';
import { notebookSizeProblem } from '../common/notebook-format';
import { RequestError, errorMessage } from './request-error';

/**
 * Reads a notebook file the user picked in the system's file dialog, for the page to open: refused
 * unread when it is larger than a notebook can be (as the store refuses its own files), and checked
 * again after reading, in case it grew in between. Parsing it is the page's work, as for a dropped file.
 */
export async function readPickedNotebook(path: string): Promise<PickedNotebookFile> {
  const name = basename(path);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new RequestError(404, `${name}: cannot be opened: ${errorMessage(cause)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new RequestError(400, `${name}: not a file`);
    const before = notebookSizeProblem(name, info.size);
    if (before !== null) throw new RequestError(413, before);
    const bytes = await handle.readFile();
    const after = notebookSizeProblem(name, bytes.byteLength);
    if (after !== null) throw new RequestError(413, after);
    return PickedNotebookFile.parse({ name, text: bytes.toString('utf8') });
  } finally {
    await handle.close();
  }
}
