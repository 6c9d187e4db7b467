import { afterEach, describe, expect, it, vi } from 'vitest';
import { cancelDraw, scheduleDraw } from '../../src/renderer/src/charts/draw-queue';

/** Waits until the queue has drawn everything it holds (it yields between charts). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('the chart draw queue', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('draws one chart per task, those on screen first, each once with its latest option', async () => {
    const drawn: string[] = [];
    const owners = { a: {}, b: {}, c: {}, d: {} };
    const job = (name: string, onScreen: boolean) => ({ draw: () => void drawn.push(name), isOnScreen: () => onScreen });
    scheduleDraw(owners.a, job('a below', false));
    scheduleDraw(owners.b, job('b on screen', true));
    scheduleDraw(owners.c, job('c below', false));
    scheduleDraw(owners.a, job('a below, second option', false));
    scheduleDraw(owners.d, job('d gone', true));
    cancelDraw(owners.d);
    // Nothing is drawn in the task that asked.
    expect(drawn).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(drawn.length).toBeLessThanOrEqual(1);
    await settle();
    expect(drawn).toEqual(['b on screen', 'c below', 'a below, second option']);
  });

  it('leaves charts off screen for the idle time, and draws one that comes on screen meanwhile at once', async () => {
    const idle: (() => void)[] = [];
    vi.stubGlobal('requestIdleCallback', (run: () => void) => idle.push(run));
    vi.stubGlobal('cancelIdleCallback', () => undefined);
    const drawn: string[] = [];
    scheduleDraw({}, { draw: () => void drawn.push('below'), isOnScreen: () => false });
    await settle();
    expect(drawn).toEqual([]);
    scheduleDraw({}, { draw: () => void drawn.push('on screen'), isOnScreen: () => true });
    await settle();
    expect(drawn).toEqual(['on screen']);
    for (const run of idle.splice(0)) run();
    await settle();
    for (const run of idle.splice(0)) run();
    await settle();
    expect(drawn).toEqual(['on screen', 'below']);
  });

  it('goes on after a chart that throws', async () => {
    const drawn: string[] = [];
    const errors = console.error;
    console.error = () => undefined;
    try {
      scheduleDraw({}, { draw: () => { throw new Error('bad option'); }, isOnScreen: () => true });
      scheduleDraw({}, { draw: () => void drawn.push('next'), isOnScreen: () => true });
      await settle();
    } finally {
      console.error = errors;
    }
    expect(drawn).toEqual(['next']);
  });
});
