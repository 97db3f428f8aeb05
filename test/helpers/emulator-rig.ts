import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  generateAnyKeyPair,
  issueLeafCertificate,
  type CertificateAuthority,
  type KeyAlgorithm,
} from '../../src/emulator/pki.js';
import { startEmulator } from '../../src/emulator/index.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface Rig {
  readonly dir: string;
  readonly url: string;
  readonly root: CertificateAuthority;
  readonly intermediate: CertificateAuthority;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  /** The flags every credential-process call against this rig needs, key flags aside. */
  readonly sessionFlags: readonly string[];
  readonly stats: { readonly createSession: number; readonly getCallerIdentity: number };
  /** A client key in a file and its certificate, issued by the intermediate. */
  issueFileIdentity(name: string, keyAlgorithm?: KeyAlgorithm): Promise<{ keyPath: string; certificatePath: string; chainPath: string }>;
  /** A certificate for a public key held elsewhere (a token, a TPM). */
  issueCertificateFor(name: string, publicKey: Parameters<typeof issueLeafCertificate>[0]['publicKey']): Promise<{ certificatePath: string; certificateDer: Uint8Array }>;
  close(): Promise<void>;
}

/**
 * The world every end-to-end test runs in: a root CA registered as the trust anchor, an
 * intermediate that issues client certificates, and the emulator on 127.0.0.1 (a random port).
 */
export async function startRig(options: { clock?: () => Date } = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'ras-e2e-'));
  const root = await createCertificateAuthority({ subject: 'CN=Test Root CA', keyAlgorithm: 'EC-P256' });
  const intermediate = await createCertificateAuthority({ subject: 'CN=Test Issuing CA', keyAlgorithm: 'EC-P256', issuer: root, pathLength: 0 });
  const trustAnchorArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/00000000-0000-4000-8000-0000000000aa`;
  const profileArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/00000000-0000-4000-8000-0000000000bb`;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/e2e-role`;
  const emulator = await startEmulator(
    {
      region: REGION,
      accountId: ACCOUNT,
      trustAnchors: [{ arn: trustAnchorArn, certificates: [root.certificatePem], enabled: true }],
      profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, acceptRoleSessionName: true, enabled: true }],
    },
    { port: 0, host: '127.0.0.1', ...(options.clock !== undefined ? { clock: options.clock } : {}) },
  );
  const chainPath = join(dir, 'intermediate.pem');
  await writeFile(chainPath, intermediate.certificatePem);
  return {
    dir,
    url: emulator.url,
    root,
    intermediate,
    trustAnchorArn,
    profileArn,
    roleArn,
    sessionFlags: ['--trust-anchor-arn', trustAnchorArn, '--profile-arn', profileArn, '--role-arn', roleArn, '--endpoint', emulator.url],
    get stats() {
      return emulator.stats;
    },
    async issueFileIdentity(name, keyAlgorithm = 'EC-P256') {
      const pair = await generateAnyKeyPair(keyAlgorithm);
      const issued = await issueLeafCertificate({ issuer: intermediate, subject: `CN=${name}`, publicKey: pair.publicKey });
      const keyPath = join(dir, `${name}.key.pem`);
      const certificatePath = join(dir, `${name}.cert.pem`);
      await writeFile(keyPath, pair.privateKeyPem);
      await chmod(keyPath, 0o600);
      await writeFile(certificatePath, issued.certificatePem);
      return { keyPath, certificatePath, chainPath };
    },
    async issueCertificateFor(name, publicKey) {
      const issued = await issueLeafCertificate({ issuer: intermediate, subject: `CN=${name}`, publicKey });
      const certificatePath = join(dir, `${name}.cert.pem`);
      await writeFile(certificatePath, issued.certificatePem);
      return { certificatePath, certificateDer: issued.certificateDer };
    },
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Another emulator with the rig's trust anchor, profile and role, serving HTTPS with `tls` (a
 * private CA's server certificate): the endpoint of the proxy and CA-bundle tests.
 */
export async function startTlsEmulator(rig: Rig, tls: { readonly certPem: string; readonly keyPem: string }): Promise<{ readonly url: string; readonly port: number; close(): Promise<void> }> {
  const emulator = await startEmulator(
    {
      region: REGION,
      accountId: ACCOUNT,
      trustAnchors: [{ arn: rig.trustAnchorArn, certificates: [rig.root.certificatePem], enabled: true }],
      profiles: [{ arn: rig.profileArn, roleArns: [rig.roleArn], durationSeconds: 3600, acceptRoleSessionName: false, enabled: true }],
    },
    { port: 0, host: '127.0.0.1', tls },
  );
  return { url: emulator.url, port: Number(new URL(emulator.url).port), close: () => emulator.close() };
}
