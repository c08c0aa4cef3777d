// Waits (bounded) for the host to be quiet before a measurement: other work sharing the cores skews CPU time and
// latency. Returns the busy CPU last seen, so the report can say how loaded the host was when measuring began.
import type { ProcReader } from '../../harness/proc-stats.ts';

export async function waitForQuietHost(
  proc: ProcReader,
  options: { maxWaitSeconds: number; busyMillicores: number; log: (line: string) => void },
): Promise<number> {
  const deadline = Date.now() + options.maxWaitSeconds * 1000;
  let busy = Number.NaN;
  let said = false;
  for (;;) {
    const start = proc.hostBusySeconds();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    busy = ((proc.hostBusySeconds() - start) / 2) * 1000;
    if (busy <= options.busyMillicores || Date.now() >= deadline) break;
    if (!said) {
      options.log(`  host busy (${busy.toFixed(0)} millicores of other work); waiting up to ${options.maxWaitSeconds} s for it to settle`);
      said = true;
    }
  }
  return busy;
}
