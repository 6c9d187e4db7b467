import { attentionRow } from '../../../engine/analysis';
import { entropyBits, softmax, topK } from '../../../engine/sampling/distribution';
import type { TokenPiece } from '../../../engine/tokenizer';
import { formatPercent } from '../charts/options';
import { countText } from '../count-text';

/** What a note's live fields are computed from: the notebook's last run, as the cells show it. */
export interface LiveRun {
  model: { id: string; layers: number; heads: number; hidden: number; vocab: number; context: number } | null;
  prompt: string;
  tokens: readonly TokenPiece[] | null;
  forward: { ids: readonly number[]; lastLogits: Float32Array; attention: { layers: number; heads: number; data: readonly Float32Array[] } | null } | null;
  /** The Attend cell's layer, head and query (-1: the last token). */
  attend: { layer: number; head: number; query: number };
  temperature: number;
  piece: (id: number) => TokenPiece;
  /** The text the Sample cell generated, null before it ran. */
  generated: string | null;
}

/** Every field a note can name as `{{name}}`, with what it shows (docs/notebook-format.md lists them too). */
export const LIVE_FIELDS: Record<string, string> = {
  model: 'the model id',
  'model.layers': 'its number of layers',
  'model.heads': 'attention heads per layer',
  'model.hidden': 'the width of its vectors',
  'model.vocab': 'the size of its vocabulary',
  'model.context': 'how many tokens it reads at most',
  prompt: 'the prompt',
  'tokens.count': 'how many tokens the prompt became',
  'tokens.list': 'the tokens, as the Tokenize cell shows them',
  'tokens.ids': 'their ids',
  'attend.layer': "the Attend cell's layer",
  'attend.head': 'its head',
  'attend.query': 'the token whose attention is shown',
  'attend.top_key': 'the earlier token it weights most',
  'attend.top_share': 'the share of its attention that token gets',
  'attend.self_share': 'the share it keeps for itself',
  'predict.top1': 'the most likely next token',
  'predict.top1_prob': 'its probability',
  'predict.top2': 'the second most likely',
  'predict.top2_prob': 'its probability',
  'predict.entropy': 'the entropy of the distribution, in bits',
  'sample.text': 'the text the Sample cell generated',
};

const code = (text: string): string => `\`${text.replace(/`/g, 'ˋ')}\``;

/** The values of the live fields for a run; fields the run has not computed yet are absent. */
export function liveFields(run: LiveRun): Record<string, string> {
  const out: Record<string, string> = { prompt: run.prompt };
  if (run.model) {
    out['model'] = run.model.id;
    out['model.layers'] = String(run.model.layers);
    out['model.heads'] = String(run.model.heads);
    out['model.hidden'] = String(run.model.hidden);
    out['model.vocab'] = countText(run.model.vocab);
    out['model.context'] = String(run.model.context);
  }
  if (run.tokens) {
    out['tokens.count'] = String(run.tokens.length);
    out['tokens.list'] = run.tokens.map((p) => code(p.display)).join(' ');
    out['tokens.ids'] = run.tokens.map((p) => p.id).join(', ');
  }
  const f = run.forward;
  if (f) {
    const probs = softmax(f.lastLogits, run.temperature);
    const [first, second] = topK(f.lastLogits, 2, run.temperature);
    if (first) {
      out['predict.top1'] = code(run.piece(first.id).display);
      out['predict.top1_prob'] = formatPercent(first.prob);
    }
    if (second) {
      out['predict.top2'] = code(run.piece(second.id).display);
      out['predict.top2_prob'] = formatPercent(second.prob);
    }
    out['predict.entropy'] = entropyBits(probs).toFixed(2);
    const att = f.attention;
    const n = f.ids.length;
    const { layer, head } = run.attend;
    const query = run.attend.query < 0 || run.attend.query >= n ? n - 1 : run.attend.query;
    const data = att?.data[layer];
    if (att && data && head < att.heads) {
      const row = attentionRow(data, n, head, query);
      let best = -1;
      for (let k = 0; k < query; k++) if (best < 0 || (row[k] ?? 0) > (row[best] ?? 0)) best = k;
      out['attend.layer'] = String(layer);
      out['attend.head'] = String(head);
      out['attend.query'] = code(run.piece(f.ids[query] ?? -1).display);
      out['attend.self_share'] = formatPercent(row[query] ?? 0);
      if (best >= 0) {
        out['attend.top_key'] = code(run.piece(f.ids[best] ?? -1).display);
        out['attend.top_share'] = formatPercent(row[best] ?? 0);
      }
    }
  }
  if (run.generated !== null) out['sample.text'] = code(run.generated);
  return out;
}

/**
 * A note's Markdown with `{{name}}` replaced by the live value; a field the run has not computed
 * yet says so, and an unknown name is left as written.
 */
export function fillLiveFields(markdown: string, fields: Readonly<Record<string, string>>): string {
  return markdown.replace(/\{\{\s*([a-z0-9_.]+)\s*\}\}/g, (whole, name: string) => {
    const value = fields[name];
    if (value !== undefined) return value;
    return name in LIVE_FIELDS ? '*(run the notebook)*' : whole;
  });
}
