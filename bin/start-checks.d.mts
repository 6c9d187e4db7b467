export declare const NO_SANDBOX: '--no-sandbox';
export interface StartArguments {
  noSandbox: boolean;
  appArgs: string[];
}
export declare function startArguments(argv: readonly string[]): StartArguments;
export declare function previewCommand(electronVite: string, args: StartArguments): string[];
export interface SandboxFacts {
  platform: string;
  uid: number | null;
  restrictedUserns: boolean;
  chromeSandbox: { path: string; uid: number; mode: number } | null;
}
export declare function sandboxProblem(facts: SandboxFacts): string | null;
export declare const ELECTRON_DOWNLOADER_NODE: string;
export declare function nodeAtLeast(version: string, minimum: string): boolean;
export declare function displayProblem(facts: { platform: string; env: Record<string, string | undefined> }): string | null;
export declare function downloadProblem(facts: { timedOut: boolean; timeoutMinutes: number; network: string; nodeVersion: string; output: string }): string;
