// The kernel's floor: iputils `ping` (ICMP echo answered by the kernel itself, no user space on the far side) to a
// synthetic peer's loopback address, bounded in count and time; returns its min/avg/max/mdev in microseconds.
import { execFile } from 'node:child_process';
import { isLoopback } from './addresses.ts';

export interface PingResult {
  readonly transmitted: number;
  readonly received: number;
  readonly minMicros: number;
  readonly avgMicros: number;
  readonly maxMicros: number;
  readonly mdevMicros: number;
}

export function runPing(address: string, count = 20, intervalSeconds = 0.2): Promise<PingResult | undefined> {
  if (!isLoopback(address)) throw new Error(`ping: refusing non-loopback address ${address}`);
  const deadline = Math.ceil(count * intervalSeconds) + 5;
  return new Promise((resolve) => {
    execFile(
      'ping',
      ['-n', '-q', '-c', String(count), '-i', String(intervalSeconds), '-w', String(deadline), address],
      { timeout: (deadline + 5) * 1000 },
      (_error, stdout) => {
        const packets = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
        const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(stdout);
        if (!packets || !rtt) return resolve(undefined);
        const micros = (index: number) => Number(rtt[index]) * 1000;
        resolve({
          transmitted: Number(packets[1]),
          received: Number(packets[2]),
          minMicros: micros(1),
          avgMicros: micros(2),
          maxMicros: micros(3),
          mdevMicros: micros(4),
        });
      },
    );
  });
}
