import type { CellKind, CellParams } from '../../../common/cells';
import type { CompareDoc, ContextDoc } from '../../../common/notebook-format';
import type { SamplerKnobs } from '../../../common/sampler-settings';
import type { SamplingStrategy } from '../../../common/sampling-strategy';

/** A parameter as the report prints it: the control's label and the value in the UI's words. */
export type ParamRow = readonly [label: string, value: string];

export const CELL_TITLES: Record<CellKind | 'compare' | 'context', string> = {
  tokenize: 'Tokenize',
  embed: 'Embed',
  attend: 'Attend',
  predict: 'Predict',
  sample: 'Sample',
  compare: 'Compare',
  context: 'Context',
};

type NumericKnob = Exclude<keyof SamplerKnobs, 'order' | 'drySequenceBreakers'>;

/** The sampler chain's other stages, named as the Sample cell's controls are. */
export const KNOB_LABELS: Record<NumericKnob, string> = {
  minP: 'min-p',
  typicalP: 'typical-p',
  topNSigma: 'top-nσ',
  repetitionPenalty: 'repetition penalty',
  frequencyPenalty: 'frequency penalty',
  presencePenalty: 'presence penalty',
  penaltyLastN: 'penalty last n',
  dryMultiplier: 'DRY multiplier',
  dryBase: 'DRY base',
  dryAllowedLength: 'DRY allowed length',
  dryLastN: 'DRY last n',
  xtcThreshold: 'XTC threshold',
  xtcProbability: 'XTC probability',
  epsilonCutoff: 'epsilon cutoff',
  etaCutoff: 'eta cutoff',
  mirostatTau: 'Mirostat τ',
  mirostatEta: 'Mirostat η',
};

/** A decoding preset in words: "top-k: temperature 0.8, top-k 5". */
export function strategyWords(s: SamplingStrategy): string {
  switch (s.strategy) {
    case 'greedy':
      return 'greedy (always the most likely token)';
    case 'temperature':
      return `temperature ${s.temperature}`;
    case 'top-k':
      return `top-k: temperature ${s.temperature}, top-k ${s.topK}`;
    case 'top-p':
      return `top-p: temperature ${s.temperature}, top-p ${s.topP}`;
  }
}

/** A computed cell's kind with its parameters, so that a switch on the kind narrows them. */
export type KindParams = { [K in CellKind]: { kind: K; params: CellParams[K] } }[CellKind];

/**
 * A cell's parameters as the report prints them, in the words of the cell's controls
 * (`query -1` is "the last token", the sampling preset is its name and values, knobs left off are
 * not listed). `tokens` are the prompt's token labels, to name the query token.
 */
export function paramRows(cell: KindParams, tokens: readonly string[] = []): ParamRow[] {
  switch (cell.kind) {
    case 'tokenize':
      return [];
    case 'embed':
      return [['Dimensions shown', `${cell.params.dimCount} from dimension ${cell.params.dimStart}`]];
    case 'attend': {
      const p = cell.params;
      const last = tokens.length - 1;
      const isLast = p.query === -1 || p.query === last;
      const query = isLast ? `the last token${last >= 0 ? ` (${last}: ${tokens[last] ?? ''})` : ''}` : `${p.query}: ${tokens[p.query] ?? ''}`;
      return [
        ['Layer', String(p.layer)],
        ['Head', String(p.head)],
        ['Query token', query],
      ];
    }
    case 'predict':
      return [
        ['Top k', String(cell.params.topK)],
        ['Temperature', String(cell.params.temperature)],
      ];
    case 'sample': {
      const p = cell.params;
      const rows: ParamRow[] = [['Strategy', strategyWords(p.sampling)]];
      for (const [key, label] of Object.entries(KNOB_LABELS) as [NumericKnob, string][]) {
        const value = p.knobs[key];
        if (value !== undefined) rows.push([label, String(value)]);
      }
      if (p.knobs.drySequenceBreakers) rows.push(['DRY sequence breakers', p.knobs.drySequenceBreakers.map((b) => JSON.stringify(b)).join(' ')]);
      if (p.knobs.order) rows.push(['Order', p.knobs.order.join(', ')]);
      if (p.stop !== '') rows.push(['Stop at', JSON.stringify(p.stop)]);
      rows.push(['Seed', String(p.seed)], ['Tokens', String(p.maxTokens)]);
      return rows;
    }
  }
}

/** The Compare cell's set-up: the number of tokens and each column's preset and seed. */
export function compareRows(doc: Pick<CompareDoc, 'maxTokens' | 'columns'>): ParamRow[] {
  return [['Tokens', String(doc.maxTokens)], ...doc.columns.map((c): ParamRow => [`Column ${c.name}`, `${strategyWords(c.strategy)}; seed ${c.seed}`])];
}

/** The Context cell's two prompts and the shared word. */
export function contextRows(doc: ContextDoc): ParamRow[] {
  return [
    ['Prompt A', doc.a],
    ['Prompt B', doc.b],
    ['Shared word', doc.word === null ? 'the last token the prompts share' : JSON.stringify(doc.word)],
  ];
}
