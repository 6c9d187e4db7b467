import { z } from 'zod';
import { describeIssue } from './issue-words';

/** The fields of a Hugging Face `config.json` the app reads, under GPT-2 or Llama-style names. */
const RawConfig = z
  .object({
    model_type: z.string({ error: 'expected a string "model_type"' }),
    vocab_size: z.number().int().positive(),
    n_layer: z.number().int().positive().optional(),
    num_hidden_layers: z.number().int().positive().optional(),
    n_head: z.number().int().positive().optional(),
    num_attention_heads: z.number().int().positive().optional(),
    num_key_value_heads: z.number().int().positive().optional(),
    n_embd: z.number().int().positive().optional(),
    hidden_size: z.number().int().positive().optional(),
    n_positions: z.number().int().positive().optional(),
    n_ctx: z.number().int().positive().optional(),
    max_position_embeddings: z.number().int().positive().optional(),
    eos_token_id: z.number().int().nonnegative().nullable().optional(),
    bos_token_id: z.number().int().nonnegative().nullable().optional(),
    rope_theta: z.number().positive().optional(),
    head_dim: z.number().int().positive().optional(),
  })
  .loose();

export interface ModelConfig {
  modelType: string;
  vocabSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  /** Width of one attention head: `head_dim` where config.json names it, else hidden / heads. */
  headDim: number;
  context: number;
  eosTokenId: number | null;
  /** The base of rotary position angles (`rope_theta`), when config.json names one. */
  ropeTheta: number | null;
}

/** Validates `config.json`; the error names the field and what was expected. */
export function parseModelConfig(json: unknown, file = 'config.json'): ModelConfig {
  const parsed = RawConfig.safeParse(json);
  if (!parsed.success) throw new Error(describeIssue(file, parsed.error, json));
  const c = parsed.data;
  const need = (value: number | undefined, names: string): number => {
    if (value === undefined) throw new Error(`${file}: missing ${names}`);
    return value;
  };
  const heads = need(c.n_head ?? c.num_attention_heads, '"n_head" or "num_attention_heads"');
  const hidden = need(c.n_embd ?? c.hidden_size, '"n_embd" or "hidden_size"');
  return {
    modelType: c.model_type,
    vocabSize: c.vocab_size,
    layers: need(c.n_layer ?? c.num_hidden_layers, '"n_layer" or "num_hidden_layers"'),
    heads,
    kvHeads: c.num_key_value_heads ?? heads,
    hidden,
    headDim: c.head_dim ?? Math.floor(hidden / heads),
    context: need(c.n_positions ?? c.n_ctx ?? c.max_position_embeddings, '"n_positions" or "max_position_embeddings"'),
    eosTokenId: c.eos_token_id ?? null,
    ropeTheta: c.rope_theta ?? null,
  };
}
