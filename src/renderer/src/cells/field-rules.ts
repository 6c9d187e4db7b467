import { countText } from '../count-text';

/**
 * One rule for a number typed into a cell's control (issue 19, item 7): a refused value gets a
 * message that names the field as the UI labels it and the range it allows; the box keeps what was
 * typed until it is corrected, and the message goes once it is.
 */
export interface FieldRule {
  /** The field's name as its label shows it ("Seed", "top-p", "min-p"). */
  label: string;
  min: number;
  max: number;
  /** The minimum itself is not allowed (top-p: greater than 0). */
  isMinExclusive?: boolean;
  isInteger?: boolean;
  /** Why the maximum is what it is, when it comes from the model ("the model's vocabulary size"). */
  maxReason?: string;
}

const number = (v: number): string => (Number.isInteger(v) ? countText(v) : String(v)).replace('-', '−');

/** The allowed range in words: "a whole number from 0 to 4,294,967,295", "greater than 0 and at most 1". */
export function rangeText(rule: FieldRule): string {
  const max = `${number(rule.max)}${rule.maxReason ? ` (${rule.maxReason})` : ''}`;
  const kind = rule.isInteger ? 'a whole number ' : '';
  return rule.isMinExclusive ? `${kind}greater than ${number(rule.min)} and at most ${max}` : `${kind}from ${number(rule.min)} to ${max}`;
}

/** The typed text checked against the rule: its value, or the message to show beside the control. */
export function checkField(rule: FieldRule, text: string): { value: number } | { error: string } {
  const typed = text.trim();
  const value = Number(typed);
  const isInRange =
    typed !== '' &&
    Number.isFinite(value) &&
    (!rule.isInteger || Number.isInteger(value)) &&
    (rule.isMinExclusive ? value > rule.min : value >= rule.min) &&
    value <= rule.max;
  if (isInRange) return { value };
  const shown = typed === '' ? 'an empty box' : typed.replace('-', '−');
  return { error: `${rule.label} must be ${rangeText(rule)}, not ${shown}.` };
}
