import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/** Prints why each skipped test was skipped (the list reporter shows only that it was). */
export default class SkipReasonsReporter implements Reporter {
  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') return;
    const reason = test.annotations.find((a) => a.type === 'skip')?.description ?? 'no reason given';
    console.log(`skipped: ${test.titlePath().filter(Boolean).join(' › ')}: ${reason}`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
