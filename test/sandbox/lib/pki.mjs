// The sandbox PKI, made with openssl: one CA and the certificates and keys everything else uses.
// Generated once into $RC_CACHE/sandbox/pki (0600 keys) and reused; `up` regenerates only what is missing.
import { chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths, run, say } from './util.mjs';

export const pki = {
  ca: join(paths.pki, 'ca.crt'),
  caKey: join(paths.pki, 'ca.key'),
  apiserver: { cert: join(paths.pki, 'apiserver.crt'), key: join(paths.pki, 'apiserver.key') },
  admin: { cert: join(paths.pki, 'admin.crt'), key: join(paths.pki, 'admin.key') },
  kubeletClient: { cert: join(paths.pki, 'apiserver-kubelet-client.crt'), key: join(paths.pki, 'apiserver-kubelet-client.key') },
  kubelet: { cert: join(paths.pki, 'kubelet.crt'), key: join(paths.pki, 'kubelet.key') },
  oidc: { cert: join(paths.pki, 'oidc.crt'), key: join(paths.pki, 'oidc.key') },
  saKey: join(paths.pki, 'sa.key'),
  saPub: join(paths.pki, 'sa.pub'),
  oidcSigningKey: join(paths.pki, 'oidc-signing.key'),
};

const openssl = (args, opts) => run('openssl', args, opts);

const leaves = [
  {
    name: 'apiserver',
    subj: '/CN=kube-apiserver',
    eku: 'serverAuth',
    san: 'IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
  },
  { name: 'admin', subj: '/O=system:masters/CN=sandbox-admin', eku: 'clientAuth' },
  { name: 'kubeletClient', subj: '/O=system:masters/CN=kube-apiserver-kubelet-client', eku: 'clientAuth' },
  { name: 'kubelet', subj: '/CN=kwok-node', eku: 'serverAuth', san: 'IP:127.0.0.1,DNS:localhost,DNS:kwok-node' },
  { name: 'oidc', subj: '/CN=sandbox-oidc', eku: 'serverAuth', san: 'IP:127.0.0.1,DNS:localhost' },
];

function newKey(file) {
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file]);
  chmodSync(file, 0o600);
}

/** Creates whatever is missing. A new CA invalidates every leaf, so they are remade with it. */
export function ensurePki() {
  let made = 0;
  if (!existsSync(pki.ca) || !existsSync(pki.caKey)) {
    say('PKI: creating the sandbox CA (openssl)');
    for (const f of readdirSync(paths.pki)) rmSync(join(paths.pki, f), { force: true });
    newKey(pki.caKey);
    openssl([
      'req', '-x509', '-new', '-key', pki.caKey, '-out', pki.ca, '-days', '3650', '-sha256',
      '-subj', '/CN=ray-connect-sandbox-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-addext', 'subjectKeyIdentifier=hash',
    ]);
    made++;
  }
  for (const leaf of leaves) {
    const { cert, key } = pki[leaf.name];
    if (existsSync(cert) && existsSync(key)) continue;
    newKey(key);
    const csr = `${cert}.csr`;
    const ext = `${cert}.ext`;
    openssl(['req', '-new', '-key', key, '-out', csr, '-subj', leaf.subj]);
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage=${leaf.eku}`,
        'authorityKeyIdentifier=keyid',
        ...(leaf.san ? [`subjectAltName=${leaf.san}`] : []),
      ].join('\n') + '\n',
    );
    openssl(['x509', '-req', '-in', csr, '-CA', pki.ca, '-CAkey', pki.caKey, '-CAcreateserial', '-out', cert, '-days', '825', '-sha256', '-extfile', ext]);
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
    made++;
  }
  if (!existsSync(pki.saKey) || !existsSync(pki.saPub)) {
    newKey(pki.saKey);
    openssl(['pkey', '-in', pki.saKey, '-pubout', '-out', pki.saPub]);
    made++;
  }
  if (!existsSync(pki.oidcSigningKey)) {
    newKey(pki.oidcSigningKey);
    made++;
  }
  say(made ? `PKI: ${made} item(s) created in ${paths.pki}` : `PKI: reusing ${paths.pki}`);
}
