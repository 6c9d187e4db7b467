import { afterEach, describe, expect, it, vi } from 'vitest';
import { IPC } from '../../src/common/api';
import { IPC_EVENTS } from '../../src/common/ipc-channels';

type Fn = (...args: unknown[]) => unknown;

/** Loads the preload (src/preload/index.ts) with `electron` replaced by a stand-in (not Electron). */
async function loadPreload(invoke: (channel: string, ...args: unknown[]) => Promise<unknown>): Promise<{ api: Record<string, unknown>; listeners: Map<string, Fn> }> {
  const exposed: Record<string, unknown> = {};
  const listeners = new Map<string, Fn>();
  vi.resetModules();
  vi.doMock('electron', () => ({
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
    ipcRenderer: { invoke, on: (channel: string, listener: Fn) => listeners.set(channel, listener) },
  }));
  await import('../../src/preload/index');
  const api = exposed['ntl'];
  if (typeof api !== 'object' || api === null) throw new Error('nothing exposed as ntl');
  return { api: api as Record<string, unknown>, listeners };
}

/** Every function of the exposed API, by its dotted name. */
function functionsOf(value: unknown, prefix = ''): [string, Fn][] {
  if (typeof value === 'function') return [[prefix, value as Fn]];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => functionsOf(inner, prefix ? `${prefix}.${key}` : key));
}

afterEach(() => {
  vi.doUnmock('electron');
});

describe('the preload under an Electron stand-in (not Electron)', () => {
  it('exposes one function per IPC channel and no generic invoke', async () => {
    const channels: string[] = [];
    const { api } = await loadPreload(async (channel) => {
      channels.push(channel);
      return null;
    });
    const invokers = functionsOf(api).filter(([name]) => !['menu.onCommand', 'engine.onNativeExit'].includes(name));
    for (const [, fn] of invokers) await fn({ file: 'a.ntl.json' });
    expect(channels.sort()).toEqual(Object.values(IPC).sort());
    expect(invokers).toHaveLength(Object.values(IPC).length);
  });

  it('passes on the main process’s own words when a call is refused', async () => {
    const { api } = await loadPreload(async (channel) => {
      throw new Error(`Error invoking remote method '${channel}': Error: Gone.ntl.json: no such notebook in /home/me/notebooks`);
    });
    const notebooks = api['notebooks'] as Record<string, Fn>;
    await expect(notebooks['remove']?.('Gone.ntl.json')).rejects.toThrow(/^Gone\.ntl\.json: no such notebook in \/home\/me\/notebooks$/);
  });

  it('hands the page the native engine’s exit reason, never the IPC event', async () => {
    const { api, listeners } = await loadPreload(async () => null);
    const reasons: unknown[] = [];
    const engine = api['engine'] as Record<string, Fn>;
    engine['onNativeExit']?.((reason: unknown) => reasons.push(reason));
    listeners.get(IPC_EVENTS.nativeEngineExit)?.({ sender: 'the event' }, 'The native engine stopped unexpectedly (exit code 134)');
    listeners.get(IPC_EVENTS.nativeEngineExit)?.({ sender: 'the event' }, { not: 'a string' });
    expect(reasons).toEqual(['The native engine stopped unexpectedly (exit code 134)', 'The native engine stopped']);
  });
});
