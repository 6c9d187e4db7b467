import { errorMessage } from '../common/error-message';
import { Tokenizer } from '@huggingface/tokenizers';

/** One token of an encoded prompt: its id, the exact text it stands for, and a readable label. */
export interface TokenPiece {
  id: number;
  /** The text the token decodes to on its own (may start with a space, may be a partial UTF-8 byte run). */
  text: string;
  /** A label that shows invisible characters: a leading space as "␣", newlines as "↵", raw bytes as <0xNN>. */
  display: string;
}

export interface TokenizerInfo {
  vocabSize: number;
  isByteLevel: boolean;
  eosId: number | null;
}

/** GPT-2's reversible map from bytes to printable characters, inverted: character -> byte. */
function byteLevelDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n);
      n++;
    }
  }
  const map = new Map<string, number>();
  bytes.forEach((b, i) => map.set(String.fromCodePoint(chars[i] ?? b), b));
  return map;
}

const BYTE_OF_CHAR = byteLevelDecoder();

/**
 * The label of a byte-level BPE token (GPT-2's byte-to-character spelling, as in tokenizer.json and
 * a GGUF's `tokenizer.ggml.tokens`) whose bytes are not whole UTF-8, e.g. part of an emoji:
 * `<0xNN>` per byte, as `ModelTokenizer.piece` shows it; null when the bytes are whole UTF-8 or the
 * spelling is not byte-level.
 */
export function partialByteLabel(raw: string): string | null {
  const bytes: number[] = [];
  for (const ch of raw) {
    const b = BYTE_OF_CHAR.get(ch);
    if (b === undefined) return null;
    bytes.push(b);
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
    return null;
  } catch {
    return bytes.map((b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`).join('');
  }
}

/**
 * A BPE vocabulary the tokenizer library would use without complaint but that loses text: merges
 * of pieces that are not in the vocabulary, or a byte-level vocabulary without all 256 byte
 * symbols (text with such a byte would be dropped without a word). Throws naming the first problem.
 */
function checkBpe(model: Record<string, unknown>, isByteLevel: boolean): void {
  if (model['type'] !== 'BPE' || model['vocab'] === null || typeof model['vocab'] !== 'object' || Array.isArray(model['vocab'])) return;
  const vocab = model['vocab'] as Record<string, unknown>;
  const merges = Array.isArray(model['merges']) ? (model['merges'] as unknown[]) : [];
  for (let i = 0; i < merges.length; i++) {
    const merge = merges[i];
    const parts = typeof merge === 'string' ? merge.split(' ') : Array.isArray(merge) ? merge : [];
    if (parts.length !== 2 || !parts.every((p): p is string => typeof p === 'string')) {
      throw new Error(`tokenizer.json: field "model.merges[${i}]": expected two pieces ("a b" or ["a", "b"]), got ${JSON.stringify(merge)}`);
    }
    for (const piece of [...parts, parts.join('')]) {
      if (!Object.hasOwn(vocab, piece)) throw new Error(`tokenizer.json: field "model.merges[${i}]" (${JSON.stringify(merge)}): "${piece}" is not in the vocabulary`);
    }
  }
  if (isByteLevel && model['byte_fallback'] !== true) {
    const missing = [...BYTE_OF_CHAR.keys()].filter((ch) => !Object.hasOwn(vocab, ch));
    if (missing.length > 0) {
      throw new Error(`tokenizer.json: field "model.vocab": a byte-level vocabulary must hold all 256 byte symbols; ${missing.length} are missing (e.g. byte 0x${(BYTE_OF_CHAR.get(missing[0] ?? '') ?? 0).toString(16).padStart(2, '0')})`);
    }
  }
}

/** Makes whitespace and control characters visible in a token label. */
export function visibleText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === ' ') out += '␣';
    else if (ch === '\n') out += '↵';
    else if (ch === '\t') out += '⇥';
    else if (ch === '\r') out += '␍';
    else if (code < 0x20 || code === 0x7f) out += `<0x${code.toString(16).padStart(2, '0').toUpperCase()}>`;
    else out += ch;
  }
  return out;
}

function hasByteLevel(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  const record = node as Record<string, unknown>;
  if (record['type'] === 'ByteLevel') return true;
  for (const key of ['pretokenizers', 'decoders', 'processors']) {
    const list = record[key];
    if (Array.isArray(list) && list.some(hasByteLevel)) return true;
  }
  return false;
}

/**
 * Lets go of what @huggingface/tokenizers (0.2) keeps after it is built but never reads again: the
 * tokenizer.json it was built from (its `tokenizer` field, and its BPE model's `config` with the
 * vocabulary object and the merges) and the BPE model's split merges (their ranks stay in
 * `bpe_ranks`). For GPT-2 that is about 200,000 strings and 50,000 arrays, 10 MB of the JS heap that
 * every full collection marks again; during generation onnxruntime-node's new output buffers bring
 * one every few steps. A field that is not there, or not of the expected kind, is left alone;
 * `tests/unit/tokenizer-release.test.ts` checks that the tokens and texts stay the same.
 */
function releaseBuildData(tokenizer: Tokenizer): void {
  const held = tokenizer as unknown as Record<string, unknown>;
  if (held['tokenizer'] !== null && typeof held['tokenizer'] === 'object') held['tokenizer'] = null;
  // The library's models are callable objects (functions).
  const model = held['model'];
  if (typeof model !== 'function' && (model === null || typeof model !== 'object')) return;
  if (!(Reflect.get(model, 'bpe_ranks') instanceof Map)) return;
  if (Array.isArray(Reflect.get(model, 'merges'))) Reflect.set(model, 'merges', []);
  const config: unknown = Reflect.get(model, 'config');
  if (config !== null && typeof config === 'object') Reflect.set(model, 'config', { ...config, vocab: {}, merges: [] });
}

/** The model's own tokenizer (Hugging Face `tokenizer.json`), with readable per-token labels. */
export class ModelTokenizer {
  readonly info: TokenizerInfo;
  private readonly tokenizer: Tokenizer;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown = {}) {
    if (tokenizerJson === null || typeof tokenizerJson !== 'object') {
      throw new Error('tokenizer.json: expected a JSON object');
    }
    const json = tokenizerJson as Record<string, unknown>;
    const model = json['model'];
    if (model === null || typeof model !== 'object' || !('vocab' in model)) {
      throw new Error('tokenizer.json: field "model.vocab" is missing');
    }
    try {
      this.tokenizer = new Tokenizer(json, tokenizerConfig ?? {});
    } catch (cause) {
      throw new Error(`tokenizer.json: could not be read (${errorMessage(cause)})`);
    }
    const isByteLevel = hasByteLevel(json['pre_tokenizer']) || hasByteLevel(json['decoder']);
    checkBpe(model as Record<string, unknown>, isByteLevel);
    releaseBuildData(this.tokenizer);
    const config = tokenizerConfig !== null && typeof tokenizerConfig === 'object' ? (tokenizerConfig as Record<string, unknown>) : {};
    const eosToken = typeof config['eos_token'] === 'string' ? config['eos_token'] : '<|endoftext|>';
    this.info = {
      vocabSize: this.tokenizer.get_vocab(true).size,
      isByteLevel,
      eosId: this.tokenizer.token_to_id(eosToken) ?? null,
    };
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    // The exact text: no "clean-up" of spaces before punctuation (Hugging Face's default for GPT-2
    // would turn " 's" into "'s"), so that decode(encode(text)) gives the text back.
    return this.tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** Encodes a prompt into pieces with ids, exact texts and readable labels. */
  pieces(text: string): TokenPiece[] {
    return this.encode(text).map((id) => this.piece(id));
  }

  piece(id: number): TokenPiece {
    const raw = this.tokenizer.id_to_token(id);
    if (raw === undefined) return { id, text: '', display: `<id ${id}>` };
    if (this.tokenizer.get_added_tokens_decoder().has(id)) return { id, text: raw, display: raw };
    if (!this.info.isByteLevel) {
      const text = this.tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      return { id, text, display: visibleText(text) };
    }
    const bytes: number[] = [];
    for (const ch of raw) {
      const b = BYTE_OF_CHAR.get(ch);
      if (b === undefined) return { id, text: raw, display: visibleText(raw) };
      bytes.push(b);
    }
    try {
      const text = this.utf8.decode(new Uint8Array(bytes));
      return { id, text, display: visibleText(text) };
    } catch {
      // A piece of a multi-byte character (part of an emoji, say): show its bytes.
      const text = this.tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      return { id, text, display: bytes.map((b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`).join('') };
    }
  }
}
