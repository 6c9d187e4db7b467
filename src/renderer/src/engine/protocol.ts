// The worker protocol lives with the engine, which both the page's worker and the desktop app's
// native engine process speak; the renderer imports it from here.
export * from '../../../engine/protocol';
