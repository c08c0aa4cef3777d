// A description of the machine a benchmark ran on: CPUs, CPU model, Node version, kernel, date.
import { availableParallelism, release } from 'node:os';
import { readFileSync } from 'node:fs';

export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
  readonly kernel: string;
  readonly date: string;
}

export function describeMachine(): MachineInfo {
  let model = 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  return { cpus: availableParallelism(), model, node: process.version, kernel: release(), date: new Date().toISOString() };
}
