/**
 * The window's tasks by the main thread's own CPU time, read from Chromium's trace. On a machine
 * that other work keeps busy, a task's wall time (what the Long Tasks API reports) also counts the
 * time the thread waited for a core; its CPU time is what the page's code itself costs there.
 */
import type { Page } from '@playwright/test';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** CPU milliseconds of each task the page's main thread ran while `work` went on, longest first. */
export async function mainThreadCpu(page: Page, work: () => Promise<void>): Promise<number[]> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  // The protocol types trace events as string maps; they are JSON objects of these fields.
  cdp.on('Tracing.dataCollected', (data) => void events.push(...(data.value as unknown as TraceEvent[])));
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { categories: '__metadata,toplevel,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
  try {
    await work();
  } finally {
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
  }
  const main = events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const isMain = (e: TraceEvent): boolean => main.some((m) => m.pid === e.pid && m.tid === e.tid);
  return events
    .filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.tdur !== undefined && isMain(e))
    .map((e) => (e.tdur ?? 0) / 1000)
    .sort((a, b) => b - a);
}
