import CanvasPainter from 'zrender/lib/canvas/Painter.js';
import { describe, expect, it } from 'vitest';
import { guardDisposedPainter } from '../../src/renderer/src/charts/painter-guard';

/** A painter as zrender leaves it after dispose(), with a frame of a long paint still queued. */
function disposedPainter(): object {
  const painter: object = Object.create(CanvasPainter.prototype);
  Object.assign(painter, { _i: null, _redrawId: 7, root: null, storage: null });
  return painter;
}

function paintFrame(painter: object): unknown {
  const paintList: unknown = Reflect.get(CanvasPainter.prototype, '_paintList');
  if (typeof paintList !== 'function') throw new Error('zrender has no _paintList: recheck painter-guard.ts');
  return Reflect.apply(paintList, painter, [[], [], 7]);
}

describe('the disposed-painter guard (issue 19, item 5)', () => {
  it('zrender alone throws on a frame queued before dispose', () => {
    expect(() => paintFrame(disposedPainter())).toThrow(/layerStack/);
  });

  it('after the guard the frame is skipped, once guarded however often it is called', () => {
    guardDisposedPainter();
    guardDisposedPainter();
    expect(() => paintFrame(disposedPainter())).not.toThrow();
    const guarded: unknown = Reflect.get(CanvasPainter.prototype, '_paintList');
    expect(typeof guarded === 'function' && Reflect.get(guarded, 'isGuarded')).toBe(true);
  });
});
