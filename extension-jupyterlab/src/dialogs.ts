import { Clipboard, Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { formatDuration, type SignInProgress } from '@ray-connect/shared';

type DeviceProgress = Extract<SignInProgress, { kind: 'device' }>;
type BrowserProgress = Extract<SignInProgress, { kind: 'browser' }>;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The device code, large and selectable, with "Copy code and open browser", a countdown and Cancel. */
class DeviceCodeBody extends Widget {
  private timer: number | undefined;

  constructor(progress: DeviceProgress, trans: TranslationBundle) {
    super();
    this.addClass('rc-device');
    const n = this.node;
    n.appendChild(el('p', '', trans.__('Enter this code at %1 to sign in:', progress.verificationUri)));
    const code = el('div', 'rc-device-code', progress.userCode);
    code.setAttribute('aria-label', trans.__('Device code %1', progress.userCode.split('').join(' ')));
    code.tabIndex = 0;
    n.appendChild(code);
    const row = el('div', 'rc-device-actions');
    const target = progress.verificationUriComplete ?? progress.verificationUri;
    const copyOpen = el(
      'button',
      'jp-Button jp-mod-styled jp-mod-accept rc-device-copy-open',
      trans.__('Copy code and open browser'),
    );
    copyOpen.type = 'button';
    copyOpen.addEventListener('click', () => {
      Clipboard.copyToSystem(progress.userCode);
      window.open(target, '_blank', 'noopener');
    });
    const copy = el('button', 'jp-Button jp-mod-styled rc-device-copy', trans.__('Copy code'));
    copy.type = 'button';
    copy.addEventListener('click', () => Clipboard.copyToSystem(progress.userCode));
    const link = el('a', 'rc-device-link', trans.__('Open %1 in a new tab', progress.verificationUri));
    link.href = target;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    row.append(copyOpen, copy, link);
    n.appendChild(row);
    const bar = el('progress', 'rc-device-progress');
    const total = Math.max(1, progress.expiresAt - Date.now());
    bar.max = total;
    const left = el('div', 'rc-device-left');
    left.setAttribute('aria-live', 'polite');
    const tick = () => {
      const remaining = Math.max(0, progress.expiresAt - Date.now());
      bar.value = remaining;
      left.textContent =
        remaining > 0
          ? trans.__('Waiting for you to approve... the code expires in %1', formatDuration(remaining))
          : trans.__('The code expired.');
    };
    tick();
    this.timer = window.setInterval(tick, 1000);
    n.append(bar, left);
  }

  override dispose(): void {
    if (this.timer !== undefined) window.clearInterval(this.timer);
    super.dispose();
  }
}

/**
 * Shows a waiting dialog while `wait` runs. Resolves with wait's result, or undefined when the user cancelled
 * (then `cancel` is called), or with what `alternative` resolves to when it wins (then `cancel` is called too).
 */
async function waitingDialog<T, A = never>(
  title: string,
  body: Widget,
  wait: Promise<T>,
  cancel: () => Promise<void>,
  trans: TranslationBundle,
  alternative?: Promise<A>,
): Promise<T | A | undefined> {
  const dialog = new Dialog({
    title,
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Cancel') })],
    hasClose: false,
  });
  dialog.addClass('rc-dialog');
  let finished = false;
  const closed = dialog.launch().then(() => {
    if (!finished) {
      void cancel();
      return 'cancelled' as const;
    }
    return 'done' as const;
  });
  try {
    const result = await Promise.race([
      wait.then((r) => ({ r })),
      closed.then(() => undefined),
      ...(alternative ? [alternative.then((a) => ({ a }))] : []),
    ]);
    finished = true;
    if (result === undefined) return undefined;
    if ('a' in result) {
      void cancel();
      return result.a;
    }
    return result.r;
  } finally {
    finished = true;
    if (!dialog.isDisposed) dialog.dispose();
  }
}

export function deviceCodeDialog<T>(
  progress: DeviceProgress,
  wait: Promise<T>,
  cancel: () => Promise<void>,
  trans: TranslationBundle,
): Promise<T | undefined> {
  return waitingDialog(
    trans.__('Sign in with device code'),
    new DeviceCodeBody(progress, trans),
    wait,
    cancel,
    trans,
  );
}

function newTabLink(text: string, href: string): HTMLAnchorElement {
  const link = el('a', 'rc-browser-link', text);
  link.href = href;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  return link;
}

/** How long a browser sign-in may go without an answer before the dialog says what else to do. */
export const BROWSER_HINT_AFTER_MS = 20_000;

/**
 * Waits for a browser sign-in. After BROWSER_HINT_AFTER_MS without an answer it says what may be wrong and, when
 * `offerDevice`, offers device code (resolves 'device'; the browser flow is cancelled).
 */
export function browserDialog<T>(
  progress: BrowserProgress,
  wait: Promise<T>,
  cancel: () => Promise<void>,
  trans: TranslationBundle,
  options: { offerDevice: boolean; hintAfterMs?: number } = { offerDevice: false },
): Promise<T | 'device' | undefined> {
  const body = new Widget();
  body.addClass('rc-browser');
  body.node.appendChild(
    el('p', '', trans.__('Finish signing in in the browser tab that opened. If none opened:')),
  );
  body.node.appendChild(newTabLink(trans.__('Open the sign-in page'), progress.url));
  if (progress.tokenRequestUrl) {
    // OpenShift: the redirect goes to 127.0.0.1 of the Jupyter server, which a remote browser cannot reach.
    body.node.appendChild(
      el(
        'p',
        '',
        trans.__(
          'JupyterLab on a remote server? Get a token on the display-token page, cancel this, and sign in with the token.',
        ),
      ),
    );
    body.node.appendChild(newTabLink(trans.__('Open the display-token page'), progress.tokenRequestUrl));
  }
  let useDevice: (() => void) | undefined;
  const alternative = new Promise<'device'>((resolve) => (useDevice = () => resolve('device')));
  // Nothing waits silently: no answer for a while, say why that may be and what else works.
  const hint = window.setTimeout(() => {
    if (body.isDisposed) return;
    const box = el('div', 'rc-browser-hint');
    box.setAttribute('role', 'status');
    box.appendChild(
      el(
        'p',
        '',
        trans.__(
          'Still waiting for the sign-in page. If it showed an error or "connection refused", the browser cannot come back to this server.',
        ),
      ),
    );
    if (options.offerDevice) {
      const button = el(
        'button',
        'jp-Button jp-mod-styled jp-mod-accept rc-browser-use-device',
        trans.__('Use device code instead'),
      );
      button.type = 'button';
      button.addEventListener('click', () => useDevice?.());
      box.appendChild(button);
    }
    body.node.appendChild(box);
  }, options.hintAfterMs ?? BROWSER_HINT_AFTER_MS);
  window.open(progress.url, '_blank', 'noopener');
  return waitingDialog(trans.__('Sign in with browser'), body, wait, cancel, trans, alternative).finally(() =>
    window.clearTimeout(hint),
  );
}

/**
 * Browser sign-in cannot finish from here: says why in one line and offers device code. True = use device code.
 */
export async function offerDeviceCode(reason: string, trans: TranslationBundle): Promise<boolean> {
  const body = new Widget();
  body.addClass('rc-device-offer');
  body.node.appendChild(el('p', 'rc-device-offer-reason', reason));
  body.node.appendChild(el('p', '', trans.__('Device code works from any browser.')));
  const result = await new Dialog({
    title: trans.__('Sign in with device code instead'),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Use device code') }),
    ],
  }).launch();
  return result.button.accept;
}

/** A password field dialog for a token (never echoed, never stored by the frontend). */
export async function askToken(trans: TranslationBundle, clusterName: string): Promise<string | undefined> {
  const body = new Widget();
  body.addClass('rc-token');
  const label = el(
    'label',
    '',
    trans.__('Token for %1 (from `oc whoami -t` or `kubectl create token ...`):', clusterName),
  );
  const input = el('input', 'jp-mod-styled rc-token-input');
  input.type = 'password';
  input.autocomplete = 'off';
  input.setAttribute('aria-label', trans.__('Token'));
  label.appendChild(input);
  body.node.appendChild(label);
  const dialog = new Dialog<string>({
    title: trans.__('Sign in with a token'),
    body: Object.assign(body, { getValue: () => input.value.trim() }),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Sign in') }),
    ],
    focusNodeSelector: 'input',
  });
  const result = await dialog.launch();
  if (!result.button.accept || !result.value) return undefined;
  return result.value;
}
