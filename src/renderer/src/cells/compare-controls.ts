import { computed, reactive, ref } from 'vue';
import type { SamplingStrategy, StrategyName } from '../../../common/sampling-strategy';
import { useCompareStore } from '../stores/compare';
import type { CompareColumn } from './compare-data';
import { checkField, type FieldRule } from './field-rules';

type ColumnField = 'compare-temperature' | 'compare-top-k' | 'compare-top-p' | 'compare-seed';

const inputValue = (event: Event): string => (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement ? event.target.value.trim() : '');

/** The strategy `name` keeping what carries over from `current` (its temperature, its k or p). */
export function withStrategy(current: SamplingStrategy, name: StrategyName): SamplingStrategy {
  const temperature = 'temperature' in current ? current.temperature : 0.8;
  switch (name) {
    case 'greedy':
      return { strategy: 'greedy' };
    case 'temperature':
      return { strategy: 'temperature', temperature };
    case 'top-k':
      return { strategy: 'top-k', temperature, topK: current.strategy === 'top-k' ? current.topK : 5 };
    case 'top-p':
      return { strategy: 'top-p', temperature, topP: current.strategy === 'top-p' ? current.topP : 0.9 };
  }
}

/**
 * The Compare columns' controls (name, strategy, temperature, top-k, top-p, seed, tokens, add and
 * remove), shared by the local Compare cell and the served model's Compare: each change goes through
 * the compare store (so it is saved in the notebook), and a refused number keeps its text and a
 * message until corrected (the rule of cells/field-rules.ts). `vocab` bounds top-k when it is known.
 */
export function useCompareControls(vocab: () => number | null) {
  const compare = useCompareStore();
  const controlError = ref<string | null>(null);
  /** Fields whose typed text was refused, keyed by column and control ("3:compare-seed"). */
  const refused = reactive<Record<string, { text: string; error: string }>>({});
  const fieldErrors = computed(() => Object.values(refused).map((r) => r.error));
  const errors = computed(() => [...fieldErrors.value, ...(controlError.value ? [controlError.value] : [])]);
  const shown = (at: string, value: number | string): number | string => refused[at]?.text ?? value;
  const rules = computed((): Record<ColumnField | 'compare-max-tokens', FieldRule> => {
    const v = vocab();
    return {
      'compare-temperature': { label: 'temperature', min: 0.05, max: 5 },
      'compare-top-k': v === null ? { label: 'top-k', min: 1, max: Number.MAX_SAFE_INTEGER, isInteger: true } : { label: 'top-k', min: 1, max: v, isInteger: true, maxReason: "the model's vocabulary size" },
      'compare-top-p': { label: 'top-p', min: 0, max: 1, isMinExclusive: true },
      'compare-seed': { label: 'Seed', min: 0, max: 0xffffffff, isInteger: true },
      'compare-max-tokens': { label: 'Tokens', min: 1, max: 4096, isInteger: true },
    };
  });
  /** The typed number if its rule allows it; else null, with the text and the message kept at `at`. */
  function checked(at: string, rule: FieldRule, prefix: string, event: Event): number | null {
    const text = inputValue(event);
    const result = checkField(rule, text);
    if ('error' in result) {
      refused[at] = { text, error: `${prefix}${result.error}` };
      return null;
    }
    delete refused[at];
    return result.value;
  }
  function onStrategy(c: CompareColumn, event: Event): void {
    const name = inputValue(event);
    // The other strategy's controls go away, and with them what was refused in them.
    for (const field of ['compare-temperature', 'compare-top-k', 'compare-top-p']) delete refused[`${c.key}:${field}`];
    if (name === 'greedy' || name === 'temperature' || name === 'top-k' || name === 'top-p') controlError.value = compare.setColumn(c.key, { strategy: withStrategy(c.strategy, name) });
  }
  const PARAM_FIELDS = { temperature: 'compare-temperature', topK: 'compare-top-k', topP: 'compare-top-p' } as const;
  function onParam(c: CompareColumn, key: 'temperature' | 'topK' | 'topP', event: Event): void {
    const field = PARAM_FIELDS[key];
    const value = checked(`${c.key}:${field}`, rules.value[field], `Column ${c.name}: `, event);
    if (value !== null) controlError.value = compare.setColumn(c.key, { strategy: { ...c.strategy, [key]: value } });
  }
  function onSeed(c: CompareColumn, event: Event): void {
    const value = checked(`${c.key}:compare-seed`, rules.value['compare-seed'], `Column ${c.name}: `, event);
    if (value !== null) controlError.value = compare.setColumn(c.key, { seed: value });
  }
  function onName(c: CompareColumn, event: Event): void {
    controlError.value = compare.setColumn(c.key, { name: inputValue(event) });
  }
  function onMaxTokens(event: Event): void {
    const value = checked('compare-max-tokens', rules.value['compare-max-tokens'], '', event);
    if (value !== null) controlError.value = compare.setMaxTokens(value);
  }
  function onAdd(): void {
    controlError.value = compare.addColumn();
  }
  function onRemove(c: CompareColumn): void {
    controlError.value = compare.removeColumn(c.key);
    if (controlError.value === null) for (const at of Object.keys(refused)) if (at.startsWith(`${c.key}:`)) delete refused[at];
  }
  return { controlError, refused, errors, shown, onStrategy, onParam, onSeed, onName, onMaxTokens, onAdd, onRemove };
}

export type CompareControls = ReturnType<typeof useCompareControls>;
