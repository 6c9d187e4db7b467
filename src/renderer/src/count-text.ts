/**
 * A whole number with its thousands grouped by commas ("50,257", "-1,024"), as
 * `toLocaleString('en-US')` writes one. Intl's first number format costs a page 13–17 ms (ICU sets up
 * the locale), and it came in the shell's first render, the start's longest task (issue 18).
 */
export function countText(n: number): string {
  const grouped = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}
