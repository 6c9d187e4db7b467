import type { MessagePortMain } from 'electron';
import { z } from 'zod';
import type { WorkerRequest } from '../../engine/protocol';
import { WorkerRequestSchema } from '../../engine/protocol-schema';
import { answerVerify } from './verify-request';
import { serveNativeEngine } from './host';

/**
 * The native engine's process (an Electron utility process, never the main process, which must stay
 * responsive): the main process sends the models folders and one end of a message channel whose
 * other end the window holds; the window then speaks the worker protocol to it.
 */
const Init = z.object({ roots: z.array(z.object({ dir: z.string().min(1), source: z.enum(['bundled', 'user']) })).min(1).max(8) });

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown; ports: MessagePortMain[] }) => void): void;
  postMessage(message: unknown): void;
}


const parentPort = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('the native engine runs as an Electron utility process');
parentPort.on('message', (event) => {
  const check = answerVerify(event.data);
  if (check) {
    void check.then((reply) => parentPort.postMessage(reply));
    return;
  }
  const init = Init.safeParse(event.data);
  const port = event.ports[0];
  if (!init.success || !port) return;
  serveNativeEngine(
    {
      onMessage: (listener) =>
        port.on('message', (message) => {
          // Every request is checked for its shape before the engine sees it; one that does not fit is dropped.
          if (WorkerRequestSchema.safeParse(message.data).success) listener(message.data as WorkerRequest);
        }),
      post: (message) => port.postMessage(message),
    },
    init.data.roots,
  );
  port.start();
});
