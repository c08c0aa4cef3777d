// Transitional re-export for test/cluster/node.ts only (owned by another change in flight): the harness lives in
// harness/. Delete this file once test/cluster imports harness/kube-cluster.ts and harness/ports.ts directly.
export { findGoTool, logTail, ManagedProcess, startKubeCluster, type KubeCluster } from '../../harness/kube-cluster.ts';
export { freePorts as freeLoopbackPorts } from '../../harness/ports.ts';
