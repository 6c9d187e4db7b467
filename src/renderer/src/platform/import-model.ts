import { IMPORT_CHUNK_BYTES, planImport, type ImportPlan } from '../../../common/model-import';
import type { PageModelInfo } from '../../../common/model-info';
import { api } from './api';

/** A file of a folder the user picked or dropped, with its path inside that folder. */
export interface PickedFile {
  path: string;
  file: File;
}

export interface PickedFolder {
  name: string;
  files: PickedFile[];
}

/** Files from `<input type="file" webkitdirectory>`: each names its path as "folder/sub/file". */
export function folderFromInput(list: FileList | readonly File[]): PickedFolder {
  const files = Array.from(list);
  const first = files[0]?.webkitRelativePath.split('/')[0] ?? '';
  if (!first || files.some((f) => !f.webkitRelativePath.includes('/'))) {
    throw new Error('Choose the model folder itself (the one with config.json, tokenizer.json and onnx/), not single files.');
  }
  return { name: first, files: files.map((file) => ({ path: file.webkitRelativePath.split('/').slice(1).join('/'), file })) };
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

/** A dropped folder, read two levels deep (the model folder and its onnx/ subfolder). */
export async function folderFromDrop(items: DataTransferItemList): Promise<PickedFolder> {
  const entries = Array.from(items)
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  const dir = entries.length === 1 && entries[0]?.isDirectory ? (entries[0] as FileSystemDirectoryEntry) : null;
  if (!dir) throw new Error('Drop one model folder (with config.json, tokenizer.json and onnx/), not single files.');
  const files: PickedFile[] = [];
  const walk = async (folder: FileSystemDirectoryEntry, prefix: string, depth: number): Promise<void> => {
    const reader = folder.createReader();
    for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
      for (const entry of batch) {
        if (entry.isFile) {
          const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
          files.push({ path: `${prefix}${entry.name}`, file });
        } else if (entry.isDirectory && depth < 1) await walk(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`, depth + 1);
      }
    }
  };
  await walk(dir, '', 0);
  return { name: dir.name, files };
}

/** Which files will be sent, decided before any byte is read; throws naming what is missing. */
export function planFolder(folder: PickedFolder): ImportPlan {
  return planImport(folder.name, folder.files.map((f) => ({ path: f.path, size: f.file.size })));
}

/**
 * Sends a picked folder to the main process in pieces; it validates the whole model before it
 * appears in the models folder. `onProgress` gets the fraction of bytes sent.
 */
export async function importFolder(folder: PickedFolder, plan: ImportPlan, onProgress: (fraction: number, file: string) => void, signal?: AbortSignal): Promise<PageModelInfo> {
  const byPath = new Map(folder.files.map((f) => [f.path, f.file]));
  const total = plan.files.reduce((sum, f) => sum + f.size, 0) || 1;
  const { token } = await api.models.importBegin({ name: plan.name, files: plan.files });
  let sent = 0;
  try {
    for (const entry of plan.files) {
      const file = byPath.get(entry.path);
      if (!file) throw new Error(`${plan.name}/${entry.path} could not be read`);
      for (let offset = 0; offset < entry.size || (offset === 0 && entry.size === 0); offset += IMPORT_CHUNK_BYTES) {
        if (signal?.aborted) throw new Error('Import cancelled');
        const data = new Uint8Array(await file.slice(offset, offset + IMPORT_CHUNK_BYTES).arrayBuffer());
        await api.models.importWrite({ token, file: entry.path, offset, data });
        sent += data.byteLength;
        onProgress(sent / total, entry.path);
        if (entry.size === 0) break;
      }
    }
  } catch (cause) {
    await api.models.importAbort(token).catch(() => undefined);
    throw cause;
  }
  return api.models.importCommit(token);
}
