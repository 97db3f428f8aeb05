import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmulator, type EmulatorStats } from '../../src/emulator/index.js';
import {
  createCertificateAuthority,
  generateAnyKeyPair,
  issueLeafCertificate,
  type CertificateAuthority,
  type KeyAlgorithm,
} from '../../src/emulator/pki.js';
import type { Cleanup } from './cleanup.js';

export const REGION = 'us-east-1';
const ACCOUNT = '111122223333';
export const ROLE_NAME = 'bench-role';

/** A throwaway root and issuing CA; software client keys and certificates on demand. */
export interface BenchPki {
  readonly root: CertificateAuthority;
  readonly intermediate: CertificateAuthority;
  /** PEM file of the intermediate, for --intermediates. */
  readonly intermediatePath: string;
  issueFileIdentity(name: string, keyAlgorithm: KeyAlgorithm): Promise<FileIdentity>;
}

export interface FileIdentity {
  readonly keyPath: string;
  readonly certificatePath: string;
  readonly certificateDer: Uint8Array;
}

export async function createBenchPki(directory: string): Promise<BenchPki> {
  await mkdir(directory, { recursive: true });
  const root = await createCertificateAuthority({ subject: 'CN=Bench Root CA', keyAlgorithm: 'EC-P256' });
  const intermediate = await createCertificateAuthority({ subject: 'CN=Bench Issuing CA', keyAlgorithm: 'EC-P256', issuer: root, pathLength: 0 });
  const intermediatePath = join(directory, 'intermediate.pem');
  await writeFile(intermediatePath, intermediate.certificatePem);
  return {
    root,
    intermediate,
    intermediatePath,
    async issueFileIdentity(name, keyAlgorithm) {
      const pair = await generateAnyKeyPair(keyAlgorithm);
      const issued = await issueLeafCertificate({ issuer: intermediate, subject: `CN=${name}`, publicKey: pair.publicKey });
      const keyPath = join(directory, `${name}.key.pem`);
      const certificatePath = join(directory, `${name}.crt.pem`);
      await writeFile(keyPath, pair.privateKeyPem, { mode: 0o600 });
      await writeFile(certificatePath, issued.certificatePem);
      return { keyPath, certificatePath, certificateDer: issued.certificateDer };
    },
  };
}

export interface BenchEndpoint {
  readonly url: string;
  /** ARNs and --endpoint: what every credential-process/serve call against it needs. */
  readonly sessionFlags: readonly string[];
  readonly roleArn: string;
  stats(): EmulatorStats;
}

/**
 * The CreateSession emulator in this process, on 127.0.0.1 and a free port, trusting the given
 * root certificates (PEM). It verifies every request like the service (signature, chain), so
 * each measured credential-process run is a real, checked exchange.
 */
export async function startBenchEmulator(trustAnchorPems: readonly string[], cleanup: Cleanup): Promise<BenchEndpoint> {
  const trustAnchorArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/00000000-0000-4000-8000-00000000be01`;
  const profileArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/00000000-0000-4000-8000-00000000be02`;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;
  const emulator = await startEmulator(
    {
      region: REGION,
      accountId: ACCOUNT,
      trustAnchors: [{ arn: trustAnchorArn, certificates: [...trustAnchorPems], enabled: true }],
      profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, acceptRoleSessionName: false, enabled: true }],
    },
    { host: '127.0.0.1', port: 0 },
  );
  cleanup.defer('stop the emulator', () => emulator.close());
  return {
    url: emulator.url,
    roleArn,
    sessionFlags: ['--trust-anchor-arn', trustAnchorArn, '--profile-arn', profileArn, '--role-arn', roleArn, '--endpoint', emulator.url],
    stats: () => emulator.stats,
  };
}
