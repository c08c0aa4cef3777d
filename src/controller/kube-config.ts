// Resolves the controller's Kubernetes credentials and namespace: an explicit kubeconfig, else in-cluster
// service-account auth, else $KUBECONFIG / ~/.kube/config.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { StartupError } from '../util/startup-error.ts';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function loadKubeConfig(kubeconfigPath: string | undefined, env: NodeJS.ProcessEnv): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (kubeconfigPath) {
    try {
      kubeConfig.loadFromFile(kubeconfigPath);
    } catch (error) {
      const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0];
      throw new StartupError(`cannot load source.kubernetes.kubeconfig ${kubeconfigPath}: ${cause}`);
    }
  } else if (env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  if (!kubeConfig.getCurrentCluster()) {
    throw new StartupError('no Kubernetes cluster configured: set source.kubernetes.kubeconfig, $KUBECONFIG, or run in a pod');
  }
  return kubeConfig;
}

export function resolveNamespace(configured: string | undefined, env: NodeJS.ProcessEnv): string {
  if (configured) return configured;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || 'kconmon';
  } catch {
    return 'kconmon';
  }
}
