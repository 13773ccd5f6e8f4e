/**
 * The local cluster's PKI: a CA, one certificate per etcd member, and client certificates whose
 * common name is the etcd user they authenticate as (etcd's --client-cert-auth takes the user from
 * the CN when a client sends no password or token).
 *
 * Everything is generated once, with Node's webcrypto and @peculiar/x509 (no openssl binary
 * needed), and reused from the directory afterwards, so a restarted cluster keeps trusting its own
 * members and clients. Keys are ECDSA P-256: fast to make, and accepted by etcd's Go TLS.
 *
 *   <dir>/ca.pem, ca-key.pem                   the client CA (10 years): what client ports trust
 *   <dir>/member-<name>.pem, -key.pem          one per member, for its client port
 *                                              (serverAuth + clientAuth, SAN 127.0.0.1 and localhost)
 *   <dir>/user-<name>.pem, -key.pem            one per etcd user (CN = user name, clientAuth)
 *   <dir>/peer-ca.pem, peer-ca-key.pem         the peer CA: the only CA peer ports trust
 *   <dir>/peer-<name>.pem, -key.pem            one per member, for its peer port and as its own
 *                                              client certificate on peer links
 *
 * Two CAs, because etcd's peer port admits any certificate its --peer-trusted-ca-file signed:
 * with one CA the hosts' own payments-host certificate reached the members' peer API (issue 17
 * §5). Only members (and the chaos harness's link proxy) hold a certificate of the peer CA.
 */
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// @peculiar/x509 signs with globalThis.crypto, which is Node's webcrypto (Node ≥ 19).

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** The etcd user a function host authenticates as (dev/cluster/etcd-auth.ts gives it its role). */
export const HOST_USER = 'payments-host';
/** The etcd administrator: bootstrap, member reconfiguration, maintenance tools. */
export const ROOT_USER = 'root';

/** Paths of one TLS identity, as etcd flags and clients take them. */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface PkiOptions {
  /** Directory for every file; created if missing. */
  dir: string;
  /** etcd member names that get a server certificate. */
  members: string[];
  /** etcd users that get a client certificate. Default root and payments-host. */
  users?: string[];
  /** Validity of new member and user certificates, days. Default 825. */
  validDays?: number;
}

export interface Pki {
  dir: string;
  caFile: string;
  /** The CA that peer ports trust, and nothing else does. */
  peerCaFile: string;
  /** The member's certificate for its client port (caFile: the client CA). */
  member(name: string): TlsFiles;
  /** The member's certificate for its peer port and peer links (caFile: the peer CA). */
  memberPeer(name: string): TlsFiles;
  /** A user's client certificate. */
  user(name: string): TlsFiles;
  /** Issues (or reuses) a client certificate for another CN, e.g. a user without a role, for tests. */
  issueUser(name: string): Promise<TlsFiles>;
  /** Issues (or reuses) a peer-CA certificate for something that must speak on peer links (a proxy). */
  issuePeer(name: string): Promise<TlsFiles>;
}

interface Issuer {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** Creates whatever is missing under `dir` and returns the paths. */
export async function ensurePki({
  dir,
  members,
  users = [ROOT_USER, HOST_USER],
  validDays = 825,
}: PkiOptions): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await ensureCa(dir, 'ca', 'payments local etcd CA');
  const peerCa = await ensureCa(dir, 'peer-ca', 'payments local etcd peer CA');
  const caFile = join(dir, 'ca.pem');
  const peerCaFile = join(dir, 'peer-ca.pem');
  const files = (stem: string, trusted = caFile): TlsFiles => ({
    caFile: trusted,
    certFile: join(dir, `${stem}.pem`),
    keyFile: join(dir, `${stem}-key.pem`),
  });
  const ensure = async (
    stem: string,
    make: () => Promise<{ cert: string; key: string }>,
    trusted = caFile,
  ) => {
    const f = files(stem, trusted);
    if (!existsSync(f.certFile) || !existsSync(f.keyFile)) {
      const { cert, key } = await make();
      writeFileSync(f.keyFile, key, { mode: 0o600 });
      writeFileSync(f.certFile, cert);
    }
    return f;
  };
  const issueUser = (name: string) => {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new Error(`bad certificate user name ${name}`);
    return ensure(`user-${name}`, () => issue(ca, name, 'client', validDays));
  };
  const issuePeer = (name: string) =>
    ensure(`peer-${name}`, () => issue(peerCa, name, 'member', validDays), peerCaFile);
  for (const name of members) {
    await ensure(`member-${name}`, () => issue(ca, name, 'member', validDays));
    await issuePeer(name);
  }
  for (const name of users) await issueUser(name);
  return {
    dir,
    caFile,
    peerCaFile,
    member: (name) => files(`member-${name}`),
    memberPeer: (name) => files(`peer-${name}`, peerCaFile),
    user: (name) => files(`user-${name}`),
    issueUser,
    issuePeer,
  };
}

/** Reads the three files of an identity, as the etcd client takes them. */
export function readTlsFiles(files: TlsFiles): { ca: Buffer; cert: Buffer; key: Buffer } {
  return {
    ca: readFileSync(files.caFile),
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
  };
}

async function ensureCa(dir: string, stem: string, commonName: string): Promise<Issuer> {
  const certFile = join(dir, `${stem}.pem`);
  const keyFile = join(dir, `${stem}-key.pem`);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const key = await webcrypto.subtle.importKey(
      'pkcs8',
      pemBody(readFileSync(keyFile, 'utf8')),
      KEY_ALGORITHM,
      true,
      ['sign'],
    );
    return { cert: new x509.X509Certificate(readFileSync(certFile, 'utf8')), key: key as CryptoKey };
  }
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeFileSync(keyFile, await privateKeyPem(keys.privateKey), { mode: 0o600 });
  writeFileSync(certFile, cert.toString('pem'));
  return { cert, key: keys.privateKey };
}

/** A leaf certificate signed by the CA: a member's (server and client) or a user's (client). */
async function issue(
  ca: Issuer,
  commonName: string,
  kind: 'member' | 'client',
  validDays: number,
): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const usages =
    kind === 'member'
      ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
      : [x509.ExtendedKeyUsage.clientAuth];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${commonName}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
      ...(kind === 'member'
        ? [
            new x509.SubjectAlternativeNameExtension([
              { type: 'ip', value: '127.0.0.1' },
              { type: 'dns', value: 'localhost' },
            ]),
          ]
        : []),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function pemBody(pem: string): ArrayBuffer {
  return x509.PemConverter.decode(pem)[0]!;
}
