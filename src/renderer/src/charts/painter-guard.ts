import CanvasPainter from 'zrender/lib/canvas/Painter.js';

/**
 * A large chart (a heatmap of more than 3,000 cells) is painted over several animation frames. When
 * its chart is disposed in between (a new run replaces the cell's output), zrender's next frame still
 * paints into the disposed painter and throws `Cannot read properties of null (reading 'layerStack')`
 * as an uncaught page error (zrender 6.1.0: `dispose()` sets `_i` to null but leaves the frame queued).
 * The guard skips a frame whose painter has been disposed; a live painter paints as before.
 */
export function guardDisposedPainter(): void {
  const prototype: object = CanvasPainter.prototype;
  const paintList: unknown = Reflect.get(prototype, '_paintList');
  if (typeof paintList !== 'function' || Reflect.get(paintList, 'isGuarded') === true) return;
  const guarded = function (this: object, ...args: unknown[]): unknown {
    if (Reflect.get(this, '_i') === null) return undefined;
    return Reflect.apply(paintList, this, args);
  };
  Reflect.set(guarded, 'isGuarded', true);
  Reflect.set(prototype, '_paintList', guarded);
}
