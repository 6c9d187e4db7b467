import { describe, expect, it } from 'vitest';
import { isNoteCell, parseNotebook } from '../../src/common/notebook-format';
import tourText from '../../resources/notebooks/guided-tour.ntl.json?raw';
import { fillLiveFields, LIVE_FIELDS, liveFields, type LiveRun } from '../../src/renderer/src/notes/live-fields';

const pieces = ['The', ' sun', ' rises'].map((text, id) => ({ id, text, display: text.replace(' ', '␣') }));

function run(partial: Partial<LiveRun> = {}): LiveRun {
  // One layer, one head, three tokens: row 2 gives 0.25, 0.6, 0.15.
  const attention = new Float32Array([1, 0, 0, 0.5, 0.5, 0, 0.25, 0.6, 0.15]);
  return {
    model: { id: 'seed-world', layers: 3, heads: 4, hidden: 128, vocab: 1024, context: 128 },
    prompt: 'The sun rises',
    tokens: pieces,
    forward: { ids: [0, 1, 2], lastLogits: new Float32Array([Math.log(0.1), Math.log(0.7), Math.log(0.2)]), attention: { layers: 1, heads: 1, data: [attention] } },
    attend: { layer: 0, head: 0, query: -1 },
    temperature: 1,
    piece: (id) => pieces[id] ?? { id, text: '?', display: '?' },
    generated: ' in the east',
    ...partial,
  };
}

describe('live fields in notes', () => {
  it('computes each field from the run', () => {
    const fields = liveFields(run());
    expect(fields).toMatchObject({
      model: 'seed-world',
      'model.layers': '3',
      'model.vocab': '1,024',
      'tokens.count': '3',
      'tokens.list': '`The` `␣sun` `␣rises`',
      'tokens.ids': '0, 1, 2',
      'attend.query': '`␣rises`',
      'attend.top_key': '`␣sun`',
      'attend.top_share': '60.0%',
      'attend.self_share': '15.0%',
      'predict.top1': '`␣sun`',
      'predict.top1_prob': '70.0%',
      'predict.top2': '`␣rises`',
      'predict.top2_prob': '20.0%',
      'sample.text': '` in the east`',
    });
    // −(0.7 log2 0.7 + 0.2 log2 0.2 + 0.1 log2 0.1) = 1.157 bits.
    expect(fields['predict.entropy']).toBe('1.16');
  });

  it('fills a note: known fields, fields not computed yet, unknown names left alone', () => {
    const fields = liveFields(run({ forward: null, generated: null }));
    const text = fillLiveFields('{{attend.query}} takes {{ attend.top_share }} from {{attend.top_key}}; {{tokens.count}} tokens; {{not.a.field}}', fields);
    expect(text).toBe('*(run the notebook)* takes *(run the notebook)* from *(run the notebook)*; 3 tokens; {{not.a.field}}');
    expect(fillLiveFields('{{attend.query}} takes {{attend.top_share}} of its context from {{attend.top_key}}', liveFields(run()))).toBe(
      '`␣rises` takes 60.0% of its context from `␣sun`',
    );
  });

  it('uses the Attend cell’s query when one is chosen, and a backtick in a token cannot break out of its code span', () => {
    const fields = liveFields(run({ attend: { layer: 0, head: 0, query: 1 } }));
    expect(fields['attend.query']).toBe('`␣sun`');
    expect(fields['attend.top_share']).toBe('50.0%');
    const tick = liveFields(run({ piece: (id) => ({ id, text: '`x', display: '`x' }) }));
    expect(tick['predict.top1']).toBe('`ˋx`');
  });
});

describe('the guided tour (resources/notebooks/guided-tour.ntl.json)', () => {
  const TOUR = 'guided-tour.ntl.json';
  it('is a valid notebook: six steps in notes, every {{field}} one the app fills in, Attend on "rises" in layer 1, head 2', () => {
    const doc = parseNotebook(JSON.parse(tourText), TOUR);
    const notes = doc.cells.filter(isNoteCell);
    expect(notes).toHaveLength(6);
    expect(notes.map((n) => n.text.split('\n')[0])).toEqual([
      '# A guided tour: how a model chooses the next token',
      '## 1. Text becomes tokens',
      '## 2. Each token becomes a vector, and 3. learns where it stands',
      '## 4. Layers of attention and MLP',
      '## 5. Softmax: one probability for every token',
      '## 6. Choose, append, repeat',
    ]);
    const fields = notes.flatMap((n) => [...n.text.matchAll(/\{\{\s*([a-z0-9_.]+)\s*\}\}/g)].map((m) => m[1]));
    expect(fields.length).toBeGreaterThan(20);
    for (const field of fields) expect(Object.keys(LIVE_FIELDS)).toContain(field);
    expect(doc.cells.find((c) => c.kind === 'attend')).toMatchObject({ params: { layer: 1, head: 2, query: 2 } });
    expect(notes[3]?.text).toContain('roundtable');
  });

});
