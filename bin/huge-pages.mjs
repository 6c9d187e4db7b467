// Generation on the native backend reads every weight once a token (GPT-2 small: 498 MB). In 4 KiB
// pages that is 120,000 TLB misses a token; glibc's malloc asks Linux for transparent huge pages
// (2 MiB) when GLIBC_TUNABLES has glibc.malloc.hugetlb=1 (glibc 2.35 and later; older ones and other
// C libraries ignore it), and onnxruntime-node's weights are malloc'd. glibc reads the setting when a
// process starts, so a command that generates runs itself again with it (about 40 ms). Off with
// NTL_HUGE_PAGES=0, and wherever it cannot apply: not Linux, or Linux's transparent huge pages set to
// "never". The same tokens either way; README › Benchmark › "Cached generation, step by step".
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TUNABLE = 'glibc.malloc.hugetlb';

/** Whether this process should run itself again with huge pages asked of malloc. */
export function wantsHugePages(env = process.env) {
  if (process.platform !== 'linux' || env.NTL_HUGE_PAGES === '0') return false;
  if ((env.GLIBC_TUNABLES ?? '').includes(TUNABLE)) return false;
  try {
    return !readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[never]');
  } catch {
    return false;
  }
}

/**
 * Runs this same command (Node, its flags, the script and its arguments) again with huge pages asked
 * of malloc, its input and output the terminal's, and ends this process as the child ends (its exit
 * code, or the signal that ended it). Signals sent to this process are passed on to the child.
 */
export function rerunWithHugePages() {
  const tunables = [process.env.GLIBC_TUNABLES, `${TUNABLE}=1`].filter(Boolean).join(':');
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, GLIBC_TUNABLES: tunables } });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('error', (cause) => {
    process.stderr.write(`ntl: could not start itself again with huge pages (${cause.message}); set NTL_HUGE_PAGES=0 to run without\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
