import { RayConnectError } from '../errors.js';
import type { KubeconfigView, ResolvedContext } from './kubeconfigTypes.js';

/** Looks up a context (default: current-context) with its cluster and user. */
export function resolveContext(view: KubeconfigView, contextName?: string): ResolvedContext {
  const name = contextName ?? view.currentContext;
  const where = view.files.length ? ` in ${view.files.join(', ')}` : '';
  if (view.files.length === 0 && view.missing.length > 0) {
    throw new RayConnectError(
      'KUBECONFIG_NOT_FOUND',
      `None of the files in KUBECONFIG exist (${view.missing.join(', ')}).`,
      {
        fix: 'Correct KUBECONFIG, or unset it to use ~/.kube/config.',
        details: { files: view.missing.join(', ') },
      },
    );
  }
  if (name === undefined) {
    throw new RayConnectError('CONTEXT_NOT_FOUND', `No current-context is set${where}.`, {
      fix: 'Choose a context, or run `kubectl config use-context <name>`.',
      details: { files: view.files.join(', ') },
    });
  }
  const context = view.contexts.find((c) => c.name === name);
  if (!context) {
    const known = view.contexts.map((c) => c.name);
    throw new RayConnectError('CONTEXT_NOT_FOUND', `Context "${name}" is not defined${where}.`, {
      fix: known.length
        ? `Use one of: ${known.join(', ')}.`
        : 'Add the context to your kubeconfig, or sign in to the cluster.',
      details: { context: name },
    });
  }
  const cluster = view.clusters.find((c) => c.name === context.value.cluster);
  if (!cluster) {
    throw new RayConnectError(
      'KUBECONFIG_INVALID',
      `context "${name}" names cluster "${context.value.cluster}", which is not defined (file ${context.file})`,
      {
        fix: `Add cluster "${context.value.cluster}" or correct the context in ${context.file}.`,
        details: { file: context.file, field: `contexts[name=${name}].context.cluster` },
      },
    );
  }
  const user = view.users.find((u) => u.name === context.value.user);
  if (!user) {
    throw new RayConnectError(
      'KUBECONFIG_INVALID',
      `context "${name}" names user "${context.value.user}", which is not defined (file ${context.file})`,
      {
        fix: `Add user "${context.value.user}" or correct the context in ${context.file}.`,
        details: { file: context.file, field: `contexts[name=${name}].context.user` },
      },
    );
  }
  return { name, namespace: context.value.namespace ?? 'default', context, cluster, user };
}
