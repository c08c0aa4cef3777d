// Transitional re-exports for test/cluster/node.ts only (owned by another change in flight): the harness lives in
// harness/. Delete this file once test/cluster imports harness/kube-cluster.ts, harness/ports.ts and
// harness/logged-process.ts directly (ManagedProcess → startLoggedProcess, logTail → fileTail).
import { fileTail, startLoggedProcess, type LoggedProcess } from '../../harness/logged-process.ts';

export { findGoTool, startKubeCluster, type KubeCluster } from '../../harness/kube-cluster.ts';
export { freePorts as freeLoopbackPorts } from '../../harness/ports.ts';

export function logTail(file: string, lines = 60): string {
  return fileTail(file, lines);
}

/** The old class shape over a LoggedProcess. */
export class ManagedProcess {
  readonly #process: LoggedProcess;

  constructor(name: string, bin: string, args: string[], logPath: string) {
    this.#process = startLoggedProcess(name, bin, args, logPath);
  }

  get name(): string {
    return this.#process.name;
  }

  get logPath(): string {
    return this.#process.logFile;
  }

  get running(): boolean {
    return this.#process.running();
  }

  describeExit(): string {
    return this.#process.describeExit();
  }

  killSync(): void {
    this.#process.killSync();
  }

  stop(graceMs = 15_000): Promise<void> {
    return this.#process.stop('SIGTERM', graceMs);
  }
}
