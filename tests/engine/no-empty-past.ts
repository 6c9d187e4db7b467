import * as ortWeb from 'onnxruntime-web';
import type { OrtModule } from '../../src/engine/session';

/** onnxruntime-web, except that a session refuses zero-length inputs (as some backends do): an empty past fails. */
class NoEmptyPast {
  static async create(...args: Parameters<typeof ortWeb.InferenceSession.create>): Promise<ortWeb.InferenceSession> {
    const session = await ortWeb.InferenceSession.create(...args);
    const run = session.run.bind(session);
    return Object.assign(session, {
      run: (feeds: Record<string, ortWeb.Tensor>, ...rest: [never]) => {
        if (Object.values(feeds).some((t) => t.dims.includes(0))) return Promise.reject(new Error('zero-length tensor'));
        return run(feeds, ...rest);
      },
    });
  }
}

export const ortWithoutEmptyPast = { ...ortWeb, InferenceSession: NoEmptyPast } as unknown as OrtModule;
