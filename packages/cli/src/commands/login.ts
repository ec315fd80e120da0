import { type SignInInput, type SignInState, StorageWords } from '@ray-connect/shared';
import { allowOnly, boolFlag, stringFlag, UsageError } from '../args.js';
import { type CliContext, memoryOnlyHint } from '../compose.js';
import { selectCluster } from '../select.js';
import { showWaiting, type WaitStream } from '../waiting.js';

export const loginHelp = `Usage: ray-connect login [--device | --browser | --openshift | --token-stdin | --kubeconfig | --in-cluster] [--context <name>]
Signs in to a Kubernetes cluster.
  --device        OIDC device code: prints a code and a URL to open on any device
  --browser       OIDC in a browser on this machine (loopback redirect to 127.0.0.1)
  --openshift     OpenShift OAuth in a browser (like oc login --web)
  --token-stdin   a bearer token read from stdin (never from argv): oc whoami -t | ray-connect login --token-stdin
  --kubeconfig    use the context's own kubeconfig credentials (checked with a SelfSubjectReview)
  --in-cluster    use the pod's service account
  --issuer <url>, --client-id <id>   the OIDC provider (default: from the kubeconfig's kubelogin args, or settings)
Default: --kubeconfig when the context has credentials, else --device.`;

export async function login(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, [
    'device',
    'browser',
    'openshift',
    'token-stdin',
    'kubeconfig',
    'in-cluster',
    'issuer',
    'client-id',
  ]);
  const cluster = await selectCluster(ctx);
  const chosen = ['device', 'browser', 'openshift', 'token-stdin', 'kubeconfig', 'in-cluster'].filter((m) =>
    boolFlag(ctx.args, m),
  );
  if (chosen.length > 1) throw new UsageError(`choose one sign-in method, not ${chosen.join(' and ')}`);
  const idp = {
    ...(stringFlag(ctx.args, 'issuer') && { issuer: stringFlag(ctx.args, 'issuer') }),
    ...(stringFlag(ctx.args, 'client-id') && { clientId: stringFlag(ctx.args, 'client-id') }),
  };
  const method =
    chosen[0] ??
    (cluster.source === 'in-cluster'
      ? 'in-cluster'
      : cluster.source === 'kubeconfig' && cluster.signIn.method === 'kubeconfig'
        ? 'kubeconfig'
        : 'device');
  let input: SignInInput;
  switch (method) {
    case 'token-stdin':
      input = { method: 'token', token: await readStdin(ctx.io.stdin) };
      break;
    case 'device':
    case 'browser':
      input = { method, ...idp };
      break;
    case 'openshift':
    case 'kubeconfig':
    case 'in-cluster':
      input = { method };
      break;
    default:
      throw new UsageError(`unknown sign-in method ${method}`);
  }
  const progress = await ctx.api.beginSignIn(cluster.id, input);
  let state: SignInState;
  if (progress.kind === 'done') state = progress.state;
  else {
    if (progress.kind === 'device') {
      ctx.err(
        `To sign in to ${cluster.name}, open ${progress.verificationUriComplete ?? progress.verificationUri}`,
      );
      ctx.err(`and enter the code: ${progress.userCode}`);
    } else {
      ctx.err(
        `To sign in to ${cluster.name}, open this URL in a browser on this machine (it was opened if possible):`,
      );
      ctx.err(progress.url);
      if (progress.tokenRequestUrl)
        ctx.err(
          `If the browser cannot come back here, get a token at ${progress.tokenRequestUrl} and run: ray-connect login --token-stdin`,
        );
    }
    if (ctx.json) ctx.out(JSON.stringify({ progress }));
    const onSignal = () => void ctx.api.cancelSignIn(progress.loginId);
    process.once('SIGINT', onSignal);
    // The device flow waits for a person: show it (stderr only; --json scripts get no spinner).
    const waiting =
      progress.kind === 'device' && !ctx.json
        ? showWaiting(ctx.io.stderr, 'Waiting for you to approve the sign-in', progress.expiresAt, {
            tty: (ctx.io.stderr as WaitStream).isTTY === true && ctx.io.env.TERM !== 'dumb',
          })
        : undefined;
    try {
      state = await ctx.api.completeSignIn(progress.loginId);
      waiting?.done('Approved.');
    } catch (e) {
      waiting?.done('Stopped waiting.');
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
    }
  }
  const storage = (await ctx.api.listClusters()).find((c) => c.id === cluster.id)?.storage;
  if (ctx.json)
    ctx.out(
      JSON.stringify({ cluster: cluster.id, signIn: state, storage, ...(ctx.agent && { agent: ctx.agent }) }),
    );
  else {
    const who = state.identity ? ` as ${state.identity.username}` : '';
    ctx.out(`Signed in to ${cluster.name}${who} (${state.method ?? method})`);
    const stored = state.method !== 'kubeconfig' && state.method !== 'in-cluster';
    if (stored && ctx.memoryOnly) ctx.warn(memoryOnlyHint(ctx));
    else if (stored && ctx.agent && storage) ctx.note(StorageWords.viaAgent(ctx.agent.pid, storage));
    else if (stored && storage?.degradedReason) ctx.note(storage.degradedReason);
  }
  return 0;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  if ((stdin as { isTTY?: boolean }).isTTY)
    throw new UsageError(
      '--token-stdin reads the token from a pipe: oc whoami -t | ray-connect login --token-stdin',
    );
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const token = Buffer.concat(chunks).toString('utf8').trim();
  if (!token) throw new UsageError('no token on stdin');
  return token;
}
