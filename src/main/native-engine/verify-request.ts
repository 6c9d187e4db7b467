import { errorMessage } from '../../common/error-message';
import { z } from 'zod';
import { ModelRegistry } from '../../node/model-registry';
import { verifyModelFolder } from '../../node/model-verify';

/** The main process asks for a staged model folder (in the user's models folder) to be run once before it is added. */
const Verify = z.object({ verify: z.object({ folder: z.string().min(1), shownAs: z.string().min(1).max(4096), variant: z.string().min(1).max(20) }) });

/** The answer to a check request (`{ verified }` or `{ verifyError }`), or null when `data` is not one. */
export function answerVerify(data: unknown): Promise<{ verified: unknown } | { verifyError: string }> | null {
  const parsed = Verify.safeParse(data);
  if (!parsed.success) return null;
  const { folder, shownAs, variant } = parsed.data.verify;
  return new ModelRegistry([])
    .inspect(folder, shownAs, variant)
    .then((info) => verifyModelFolder(info, shownAs))
    .then(
      (verified) => ({ verified }),
      (cause: unknown) => ({ verifyError: errorMessage(cause) }),
    );
}
