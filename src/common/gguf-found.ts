import { z } from 'zod';

/** A GGUF file found in LM Studio's or Ollama's models folder, offered in the Models panel. */
export const FoundGguf = z.object({
  /** Where it is: shown to the user, and sent back to add it (only a path the scan found is accepted). */
  path: z.string(),
  /** LM Studio's publisher/model/file.gguf, Ollama's NAME:TAG. */
  name: z.string(),
  origin: z.enum(['lmstudio', 'ollama']),
  bytes: z.number().int().nonnegative(),
  architecture: z.string().nullable(),
  /** llama.cpp's name for the file's quantization (Q4_K_M, Q8_0, ...), or null. */
  fileType: z.string().nullable(),
  parameters: z.number().int().nullable(),
  /** The model id it is registered as, or null when not added yet. */
  registeredAs: z.string().nullable(),
  /** Why its header could not be read, or null. */
  problem: z.string().nullable(),
});
export type FoundGguf = z.infer<typeof FoundGguf>;

export const FoundGgufList = z.object({
  files: z.array(FoundGguf),
  /** The folders looked in, so the panel can say where nothing was found. */
  searched: z.array(z.object({ origin: z.enum(['lmstudio', 'ollama']), dir: z.string(), exists: z.boolean() })),
});
export type FoundGgufList = z.infer<typeof FoundGgufList>;

/** Adding a found GGUF file: its path, as the scan gave it. */
export const AddGgufRequest = z.object({ path: z.string().min(1).max(4096) });
