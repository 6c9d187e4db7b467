import { defineConfig } from '@playwright/test';

/** End-to-end tests drive the browser build in Debian's Chromium (see e2e/fixtures.ts). */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list'], ['./e2e/skip-reasons-reporter.ts']],
  outputDir: 'test-results',
  // The specs that run `ntl` (e2e/fixtures.ts) get its prebuilt build, built here when stale.
  globalSetup: './tests/cli-build-setup.ts',
});
