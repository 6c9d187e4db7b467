import { join } from 'node:path';

/** Where the app runs from: `app.isPackaged`, `app.getAppPath()`, `process.resourcesPath`. */
export interface AppLayout {
  isPackaged: boolean;
  appPath: string;
  resourcesPath: string | undefined;
}

/** The files the app ships besides its code: the bundled models and the guided tour. */
export interface AppResources {
  models: string;
  tour: string;
}

/**
 * In development they are the project's `resources/` folder (the app path is the project). In an
 * installed app they are extra resources beside the archive (`process.resourcesPath`, see
 * electron-builder.yml): outside `app.asar`, so that the native engine's process and the file
 * dialogs see plain files, and models can be large without bloating the archive.
 */
export function appResources(layout: AppLayout): AppResources {
  let root = join(layout.appPath, 'resources');
  if (layout.isPackaged) {
    if (!layout.resourcesPath) throw new Error('the packaged app has no resources folder (process.resourcesPath is not set)');
    root = layout.resourcesPath;
  }
  return { models: join(root, 'models'), tour: join(root, 'notebooks', 'guided-tour.ntl.json') };
}
