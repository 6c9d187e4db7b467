import { errorMessage as message } from '../../../common/error-message';
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { PickedNotebookFile, type DraftEntry, type NotebookCopy, type NotebookEntry, type WorkspaceInfo } from '../../../common/api';
import { boundResults, formatNotebook, notebookFileName, notebookSizeProblem, parseNotebook } from '../../../common/notebook-format';
import { downloadBlob } from '../components/export';
import { api } from '../platform/api';
import { useNotebookStore } from './notebook';
import { fileFromHash, setHash } from './notebook-address';


/** Milliseconds after a change before the notebook is saved; tests may set `ntl.autosaveMs` in localStorage. */
function autosaveDelay(): number {
  const configured = Number(globalThis.localStorage?.getItem('ntl.autosaveMs') ?? '');
  return Number.isFinite(configured) && configured > 0 ? configured : 1000;
}
/**
 * A notebook opened on a model this small runs at once (a run takes well under a second), so its
 * charts and note fields show again after a reload; on a larger model it waits for Run all.
 */
const AUTO_RUN_MAX_PARAMETERS = 30_000_000;

/** A draft for crash recovery is kept sooner than the save itself. */
const DRAFT_DELAY_MS = 250;

/**
 * The notebook's file in the workspace: open, save (and autosave a moment after each change),
 * Save As, new, rename, duplicate, remove, import, drafts for crash recovery, and the list the
 * sidebar shows.
 */
export const useFilesStore = defineStore('files', () => {
  const notebook = useNotebookStore();
  const currentFile = ref<string | null>(null);
  const entries = ref<NotebookEntry[]>([]);
  const recent = ref<string[]>([]);
  const drafts = ref<DraftEntry[]>([]);
  /** The workspace folder; null until it is known. */
  const workspace = ref<WorkspaceInfo | null>(null);
  const status = ref<string | null>(null);
  const saving = ref(false);
  /** Start-up is over: drafts looked for, the notebook in the address or the tour opened, the list read. */
  const isStarted = ref(false);
  let draftTimer: ReturnType<typeof setTimeout> | null = null;
  let saveTimer: ReturnType<typeof setTimeout> | null = null;

  /** The drafts banner was closed: the drafts stay on disk, offered again at the next start. */
  const isDraftsClosed = ref(false);
  /**
   * Drafts worth offering: one older than its saved file holds nothing the file lacks (a draft
   * written just before the save that replaced it), so it is not offered.
   */
  const offeredDrafts = computed(() =>
    isDraftsClosed.value
      ? []
      : drafts.value.filter((d) => {
          const saved = entries.value.find((e) => e.file === d.file && e.damaged === null);
          return saved === undefined || Date.parse(d.savedAt) > saved.modifiedMs;
        }),
  );

  const title = computed(() => `${notebook.isDirty ? '• ' : ''}${notebook.notebookName || 'Untitled'} — Next Token Lab`);

  async function refresh(): Promise<void> {
    try {
      [entries.value, recent.value, workspace.value] = await Promise.all([api.notebooks.list(), api.notebooks.recent(), api.workspace.info()]);
    } catch (cause) {
      notebook.errorBanner = `Could not list the notebooks: ${message(cause)}`;
    }
  }

  /** Unsaved changes left in the workspace by a crash, to offer back. */
  async function loadDrafts(): Promise<void> {
    try {
      drafts.value = await api.notebooks.drafts();
    } catch (cause) {
      notebook.errorBanner = `Could not look for unsaved changes: ${message(cause)}`;
    }
  }

  /** After the models are listed: drafts left by a crash are offered; the notebook in the address is reopened. */
  async function start(): Promise<void> {
    await loadDrafts();
    const file = fileFromHash();
    if (file !== null) await open(file);
    else {
      // The first time the app opens a workspace, the guided tour opens.
      const tour = await api.notebooks.firstRun().catch(() => null);
      if (tour !== null) await open(tour);
    }
    await refresh();
    isStarted.value = true;
  }

  function cancelTimers(): void {
    if (draftTimer !== null) clearTimeout(draftTimer);
    if (saveTimer !== null) clearTimeout(saveTimer);
    draftTimer = saveTimer = null;
  }

  /** Settles once the model is loaded (or its load failed). */
  function modelSettled(): Promise<void> {
    if (!notebook.loading) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = watch(
        () => notebook.loading,
        (isLoading) => {
          if (isLoading) return;
          stop();
          resolve();
        },
      );
    });
  }

  /** Runs an opened notebook on a small model (its own model, not a stand-in for a missing one). */
  async function runOnOpen(): Promise<void> {
    await modelSettled();
    const m = notebook.model;
    if (!notebook.loaded || notebook.modelNotice !== null || m === null || m.parameters === null || m.parameters > AUTO_RUN_MAX_PARAMETERS) return;
    await notebook.runAll();
  }

  /** Opens a notebook, its backup (the version before the last save) or its draft. */
  async function open(file: string, copy: NotebookCopy = 'file'): Promise<boolean> {
    cancelTimers();
    if (notebook.isDirty) await save();
    try {
      const doc = await api.notebooks.read(file, copy);
      await notebook.applyDoc(copy === 'backup' ? { ...doc, name: `${doc.name} (backup)` } : doc);
      // A backup opens as a new notebook: the file it came from (perhaps damaged) is never overwritten.
      currentFile.value = copy === 'backup' ? null : file;
      setHash(currentFile.value);
      status.value = copy === 'file' ? `Opened ${file}` : `Opened the ${copy} of ${file}`;
      if (copy !== 'file') notebook.revision++;
      void runOnOpen();
      return true;
    } catch (cause) {
      notebook.errorBanner = `Could not open ${file}${copy === 'file' ? '' : ` (${copy})`}: ${message(cause)}`;
      return false;
    }
  }

  /**
   * Saves into a new file named after `name`: `name.ntl.json`, else `name 2.ntl.json`, ... The free
   * name is chosen where the folder is, in one request: no name is probed and refused (each refusal
   * would be a 409 the browser logs as an error), and a file another window made meanwhile is skipped.
   */
  async function saveNew(name: string): Promise<NotebookEntry> {
    return api.notebooks.save({ file: notebookFileName(name), doc: notebook.toDoc(), create: 'free-name' });
  }

  /** Saves the notebook to its file (a new file the first time). */
  async function save(): Promise<boolean> {
    cancelTimers();
    if (saving.value) {
      schedule();
      return false;
    }
    saving.value = true;
    let at = notebook.revision;
    try {
      if (currentFile.value === null) {
        const draft = notebookFileName(notebook.notebookName || 'Untitled');
        const entry = await saveNew(notebook.notebookName || 'Untitled');
        currentFile.value = entry.file;
        setHash(currentFile.value);
        // A second "Untitled" was saved as "Untitled 2": the notebook takes that name too.
        if (entry.name !== notebook.notebookName) {
          const isUnchanged = notebook.revision === at;
          notebook.notebookName = entry.name;
          if (isUnchanged) at = notebook.revision;
        }
        // Its draft was kept under the name it would have had.
        if (draft !== currentFile.value) void api.notebooks.discardDraft(draft).catch(() => undefined);
      } else {
        await api.notebooks.save({ file: currentFile.value, doc: notebook.toDoc() });
      }
      notebook.markSaved(at);
      // Its draft is gone with the save (the store removes it): not offered any more.
      drafts.value = drafts.value.filter((d) => d.file !== currentFile.value);
      status.value = `Saved ${currentFile.value} at ${new Date().toLocaleTimeString()}`;
      void refresh();
      return true;
    } catch (cause) {
      notebook.errorBanner = `Could not save the notebook: ${message(cause)}`;
      return false;
    } finally {
      saving.value = false;
    }
  }

  /** Save As: the notebook under a new name, in a new file; later saves go there. */
  async function saveAs(name: string): Promise<boolean> {
    const previous = { file: currentFile.value, name: notebook.notebookName };
    notebook.notebookName = name;
    currentFile.value = null;
    const ok = await save();
    if (!ok) {
      currentFile.value = previous.file;
      notebook.notebookName = previous.name;
    }
    return ok;
  }

  /** A new, empty notebook that has no file yet. */
  function startBlank(): void {
    notebook.reset();
    currentFile.value = null;
    setHash(null);
    status.value = null;
  }

  async function newNotebook(): Promise<void> {
    cancelTimers();
    if (notebook.isDirty) await save();
    startBlank();
  }

  async function rename(file: string, name: string): Promise<boolean> {
    try {
      if (file === currentFile.value && notebook.isDirty) await save();
      const entry = await api.notebooks.rename({ file, name });
      if (file === currentFile.value) {
        currentFile.value = entry.file;
        setHash(entry.file);
        const at = notebook.revision;
        notebook.notebookName = entry.name;
        if (notebook.revision === at + 1) notebook.markSaved();
      }
      await refresh();
      return true;
    } catch (cause) {
      notebook.errorBanner = `Could not rename ${file}: ${message(cause)}`;
      return false;
    }
  }

  /** Renames the open notebook (its file follows its name); a notebook without a file just takes the name. */
  async function renameCurrent(name: string): Promise<void> {
    if (currentFile.value === null || name.trim() === '') {
      notebook.notebookName = name;
      return;
    }
    await rename(currentFile.value, name);
  }

  async function duplicate(file: string): Promise<void> {
    try {
      const entry = await api.notebooks.duplicate(file);
      status.value = `Copied to ${entry.file}`;
      await refresh();
    } catch (cause) {
      notebook.errorBanner = `Could not duplicate ${file}: ${message(cause)}`;
    }
  }

  async function remove(file: string): Promise<void> {
    try {
      if (file === currentFile.value) {
        cancelTimers();
        startBlank();
      }
      await api.notebooks.remove(file);
      status.value = `Moved ${file} to the trash`;
      await refresh();
    } catch (cause) {
      notebook.errorBanner = `Could not delete ${file}: ${message(cause)}`;
    }
  }

  /** Opens a `.ntl.json` file from outside the workspace (picked or dropped) and saves it into the workspace. */
  async function importFile(file: File): Promise<boolean> {
    const tooLarge = notebookSizeProblem(file.name, file.size);
    if (tooLarge !== null) {
      notebook.errorBanner = `Could not import ${file.name}: ${tooLarge}`;
      return false;
    }
    return importText(file.name, await file.text());
  }

  /**
   * File ▸ Open Notebook File… in the desktop app: the main process shows the system's file dialog
   * (a menu click is not a user action in the page, so the page's own chooser would not open) and
   * hands the file over, checked; it is then imported as a dropped file is. False when cancelled.
   */
  async function openPickedFile(): Promise<boolean> {
    if (!api.notebooks.pickFile) return false;
    let picked: PickedNotebookFile | null;
    try {
      picked = PickedNotebookFile.nullable().parse(await api.notebooks.pickFile());
    } catch (cause) {
      notebook.errorBanner = `Could not open the file: ${message(cause)}`;
      return false;
    }
    return picked === null ? false : importText(picked.name, picked.text);
  }

  /** The same, from text already read. */
  async function importText(fileName: string, text: string): Promise<boolean> {
    let doc;
    try {
      doc = boundResults(parseNotebook(JSON.parse(text), fileName)).doc;
    } catch (cause) {
      // The format's messages start with the file's name already.
      const said = message(cause);
      notebook.errorBanner = `Could not import ${fileName}: ${said.startsWith(`${fileName}: `) ? said.slice(fileName.length + 2) : said}`;
      return false;
    }
    cancelTimers();
    if (notebook.isDirty) await save();
    await notebook.applyDoc(doc);
    currentFile.value = null;
    const ok = await save();
    if (ok) {
      status.value = `Imported ${fileName} as ${currentFile.value ?? ''}`;
      // An import that failed before is resolved by this one: its banner goes.
      if (notebook.errorBanner?.startsWith('Could not import ')) notebook.errorBanner = null;
    }
    return ok;
  }

  /** The notebook itself, as a download. */
  function exportNotebook(): void {
    const doc = notebook.toDoc();
    downloadBlob(notebookFileName(doc.name), new Blob([formatNotebook(doc)], { type: 'application/json' }));
  }

  /**
   * Opens another workspace folder (the desktop app's folder dialog, or back to the default one):
   * the open notebook is saved where it is first, then a new notebook starts in the new folder.
   */
  async function switchWorkspace(to: 'choose' | 'default'): Promise<boolean> {
    cancelTimers();
    if (notebook.isDirty && !(await save())) return false;
    let next: WorkspaceInfo | null;
    try {
      next = to === 'choose' ? await api.workspace.choose() : await api.workspace.useDefault();
    } catch (cause) {
      notebook.errorBanner = `Could not open the workspace folder: ${message(cause)}`;
      return false;
    }
    if (next === null) return false;
    workspace.value = next;
    startBlank();
    await loadDrafts();
    await refresh();
    status.value = `Workspace: ${next.dir}`;
    return true;
  }

  async function recover(draft: DraftEntry): Promise<void> {
    if (await open(draft.file, 'draft')) {
      // The draft becomes the notebook's content; the next save writes it to the file.
      currentFile.value = draft.file;
      setHash(draft.file);
      drafts.value = drafts.value.filter((d) => d.file !== draft.file);
      schedule();
    }
  }

  async function discard(draft: DraftEntry): Promise<void> {
    drafts.value = drafts.value.filter((d) => d.file !== draft.file);
    await api.notebooks.discardDraft(draft.file).catch((cause: unknown) => {
      notebook.errorBanner = `Could not discard the unsaved changes to ${draft.file}: ${message(cause)}`;
    });
  }

  function schedule(): void {
    if (draftTimer !== null) clearTimeout(draftTimer);
    if (saveTimer !== null) clearTimeout(saveTimer);
    draftTimer = setTimeout(() => {
      draftTimer = null;
      const file = currentFile.value ?? notebookFileName(notebook.notebookName || 'Untitled');
      void api.notebooks.saveDraft({ file, doc: notebook.toDoc() }).catch(() => undefined);
    }, DRAFT_DELAY_MS);
    saveTimer = setTimeout(() => {
      saveTimer = null;
      void save();
    }, autosaveDelay());
  }

  // Autosave: a moment after each change to what is saved.
  watch(
    () => notebook.revision,
    () => {
      if (isStarted.value && notebook.isDirty) schedule();
    },
  );

  return {
    currentFile,
    entries,
    recent,
    drafts,
    offeredDrafts,
    isDraftsClosed,
    status,
    saving,
    isStarted,
    title,
    refresh,
    start,
    open,
    save,
    saveAs,
    newNotebook,
    rename,
    renameCurrent,
    duplicate,
    remove,
    importText,
    openPickedFile,
    importFile,
    exportNotebook,
    recover,
    discard,
    workspace,
    switchWorkspace,
  };
});
