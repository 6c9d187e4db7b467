import { MessageChannelMain, utilityProcess, type BrowserWindow, type UtilityProcess } from 'electron';
import { IPC_EVENTS } from '../../common/ipc-channels';
import type { ModelRoot } from '../../node/model-registry';

/**
 * The import check (`verifyModelFolder`: a real session, predict, attention, cached steps) in a
 * utility process of its own, so loading a large model never stalls the main process: the staged
 * folder goes in, the report or the failure comes back, and the process ends.
 */
export function verifyInUtilityProcess(entry: string): (info: { path: string; variant: string }, shownAs: string) => Promise<unknown> {
  return (info, shownAs) =>
    new Promise((resolve, reject) => {
      const child = utilityProcess.fork(entry, [], { serviceName: 'Next Token Lab model check', stdio: 'inherit' });
      let settled = false;
      child.on('message', (message: unknown) => {
        const m = message as { verified?: unknown; verifyError?: string } | null;
        if (settled || m === null || typeof m !== 'object') return;
        settled = true;
        child.kill();
        if (typeof m.verifyError === 'string') reject(new Error(m.verifyError));
        else resolve(m.verified);
      });
      child.once('exit', (code: number) => {
        if (settled) return;
        settled = true;
        reject(new Error(`${shownAs}: the process that runs the model once before it is added stopped (exit code ${code}); the model was not added`));
      });
      child.postMessage({ verify: { folder: info.path, shownAs, variant: info.variant } });
    });
}

/** The native engine of one window: started again on request, after its process stopped. */
export interface NativeEngine {
  restart(): void;
}

/** Why the process ended, in words for the page's banner. */
export function nativeEngineExitReason(code: number | null | undefined): string {
  return `The native engine stopped unexpectedly (exit code ${code ?? 'unknown'})`;
}

/**
 * Gives the window a native engine (onnxruntime-node in a utility process, not in the main process,
 * which must stay responsive): on every page load a fresh process and a message channel, one end to
 * the process, the other to the page (through the preload). The page speaks the worker protocol to it.
 * A process that ends on its own (a crash in native code) is reported to the page, which rejects
 * what it was waiting for, runs on its own engine and offers a restart; one stopped on purpose
 * (a reload, the window closing) is not.
 */
export function attachNativeEngine(win: BrowserWindow, roots: readonly ModelRoot[], entry: string): NativeEngine {
  let child: UtilityProcess | null = null;
  const stop = (): void => {
    const stopping = child;
    child = null;
    stopping?.kill();
  };
  const start = (): void => {
    stop();
    const engine = utilityProcess.fork(entry, [], { serviceName: 'Next Token Lab native engine', stdio: 'inherit' });
    child = engine;
    engine.once('exit', (code: number) => {
      if (child !== engine) return;
      child = null;
      if (!win.isDestroyed()) win.webContents.send(IPC_EVENTS.nativeEngineExit, nativeEngineExitReason(code));
    });
    const { port1, port2 } = new MessageChannelMain();
    engine.postMessage({ roots }, [port1]);
    win.webContents.postMessage(IPC_EVENTS.nativeEnginePort, null, [port2]);
  };
  win.webContents.on('did-finish-load', start);
  win.on('closed', stop);
  return { restart: start };
}
