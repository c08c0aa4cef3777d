// One measured window of the agent benchmark: the CPU (user, system, main thread) of the process under test and of
// the processes beside it, the host's busy CPU and the wall time (monotonic), read together at open and at close so
// every figure covers the same stretch; and the measured process's RSS, sampled throughout.
import { cpuSeconds, sampleRss, type CpuTimes, type ProcReader, type RssSummary } from '../../harness/proc-stats.ts';

export interface WindowReading {
  readonly seconds: number;
  /** CPU seconds the measured process spent in the window. */
  readonly cpu: CpuTimes;
  /** User + system CPU seconds each other process spent in the window, in the order given to openWindow. */
  readonly others: readonly number[];
  /** CPU seconds the whole host spent busy in the window. */
  readonly hostBusySeconds: number;
  readonly memory: RssSummary;
  /** CPU seconds spent in the window, as millicores. */
  millicores(cpuSeconds: number): number;
}

export interface MeasurementWindow {
  close(): WindowReading;
  /** Stops sampling without a reading (the run failed). */
  abandon(): void;
}

export function openWindow(proc: ProcReader, pid: number, others: readonly number[] = []): MeasurementWindow {
  const cpu0 = proc.cpu(pid);
  const others0 = others.map((other) => proc.cpu(other));
  const host0 = proc.hostBusySeconds();
  const t0 = performance.now();
  const rss = sampleRss(proc, pid);
  return {
    close() {
      const cpu1 = proc.cpu(pid);
      const others1 = others.map((other) => proc.cpu(other));
      const host1 = proc.hostBusySeconds();
      const t1 = performance.now();
      const memory = rss.stop();
      const seconds = (t1 - t0) / 1000;
      return {
        seconds,
        cpu: { user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system, mainThread: cpu1.mainThread - cpu0.mainThread },
        others: others1.map((after, index) => cpuSeconds(after) - cpuSeconds(others0[index]!)),
        hostBusySeconds: host1 - host0,
        memory,
        millicores: (cpuSeconds) => (cpuSeconds / seconds) * 1000,
      };
    },
    abandon: () => void rss.stop(),
  };
}
