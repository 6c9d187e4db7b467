import type { ViewSupport } from './model-info';

/**
 * Why the views that look inside a model are refused for a GGUF model, in words for the Models
 * panel, the cells and `ntl`: llama.cpp's public API gives tokens and the next-token distribution,
 * nothing from inside the forward pass.
 */
export const GGUF_VIEW_REASONS = {
  attention: "llama.cpp's public API does not expose attention weights",
  residual: "llama.cpp's public API does not expose the residual stream",
  logitLens: "llama.cpp's public API does not expose per-layer hidden states, which the logit lens reads",
  interventions: "llama.cpp's public API does not let a forward pass switch off heads or tokens",
} as const;

/** Why a GGUF model does not run in the browser build. */
export const GGUF_BROWSER_NOTE =
  "GGUF models run on llama.cpp in the desktop app's native engine or in the ntl command line (ntl predict --model FILE.gguf); this browser build runs ONNX models only";

/** The views a GGUF model supports: tokens and the prediction, its embedding rows when the table's type allows. */
export function ggufViews(embeddingsProblem: string | null): ViewSupport[] {
  return [
    { view: 'tokens', ok: true, reason: null, note: "llama.cpp's own tokenizer (from the file)" },
    { view: 'embeddings', ok: embeddingsProblem === null, reason: embeddingsProblem, note: embeddingsProblem === null ? 'token rows only (read from token_embd.weight)' : null },
    { view: 'attention', ok: false, reason: GGUF_VIEW_REASONS.attention, note: null },
    { view: 'logits', ok: true, reason: null, note: 'the full-vocabulary distribution from llama.cpp' },
    { view: 'logitLens', ok: false, reason: GGUF_VIEW_REASONS.logitLens, note: null },
    { view: 'residual', ok: false, reason: GGUF_VIEW_REASONS.residual, note: null },
  ];
}
