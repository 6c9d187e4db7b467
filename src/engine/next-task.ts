/**
 * Resolves in a new task of the host's event loop, so that messages waiting for it (a cancel) are
 * handled first. Not a timer: browsers hold a nested `setTimeout(0)` back 4 ms from the fifth on,
 * which cost a generation of 12 tokens about 30 ms (issue 18). Node has `setImmediate`; a worker
 * in the page gets a message through a channel of its own.
 */
export function nextTask(): Promise<void> {
  const { setImmediate } = globalThis as { setImmediate?: (run: () => void) => unknown };
  if (typeof setImmediate === 'function') return new Promise((resolve) => void setImmediate(() => resolve()));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.addEventListener('message', () => {
      channel.port1.close();
      resolve();
    });
    channel.port1.start();
    channel.port2.postMessage(null);
  });
}
