/**
 * `emulate --init DIR`: a throwaway CA, a client key and certificate, and a ready emulator
 * config, so a first run needs no PKI knowledge. Refuses to overwrite anything.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SignerError } from '../errors.js';
import type { EmulatorConfig } from './config.js';
import { createCertificateAuthority, generateAnyKeyPair, issueLeafCertificate, type KeyAlgorithm } from './pki.js';

export interface InitEmulatorOptions {
  /** Key algorithm of the client key; the CA is EC P-256, or ML-DSA-65 for an ML-DSA client. Default EC-P256. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Default us-east-1. */
  readonly region?: string;
  /**
   * A fixed port for the printed instructions. Default: none; they say `--port 0` (a free
   * port) and `"$ENDPOINT"` for the URL the emulator prints, so a copied command never talks
   * to whatever else holds a well-known port.
   */
  readonly port?: number;
}

export interface InitEmulatorResult {
  readonly directory: string;
  readonly files: {
    readonly caCertificate: string;
    readonly caKey: string;
    readonly clientKey: string;
    readonly clientCertificate: string;
    readonly config: string;
  };
  readonly config: EmulatorConfig;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  /** What to run next, ready to print. */
  readonly instructions: string;
}

export const DEMO_ACCOUNT_ID = '123456789012';

export async function initEmulatorDirectory(directory: string, options: InitEmulatorOptions = {}): Promise<InitEmulatorResult> {
  const dir = resolve(directory);
  const region = options.region ?? 'us-east-1';
  const port = options.port ?? 0;
  const files = {
    caCertificate: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    clientKey: join(dir, 'client.key'),
    clientCertificate: join(dir, 'client.pem'),
    config: join(dir, 'emulator.json'),
  };

  // A post-quantum client gets a post-quantum CA: the whole chain is then ML-DSA.
  const caAlgorithm = options.keyAlgorithm?.startsWith('ML-DSA') === true ? 'ML-DSA-65' : 'EC-P256';
  const ca = await createCertificateAuthority({ subject: 'CN=roles-anywhere-signer emulator CA (throwaway)', keyAlgorithm: caAlgorithm });
  const client = await generateAnyKeyPair(options.keyAlgorithm ?? 'EC-P256');
  const clientCertificate = await issueLeafCertificate({ issuer: ca, subject: 'CN=emulator-client', publicKey: client.publicKey });
  const trustAnchorArn = `arn:aws:rolesanywhere:${region}:${DEMO_ACCOUNT_ID}:trust-anchor/${randomUUID()}`;
  const profileArn = `arn:aws:rolesanywhere:${region}:${DEMO_ACCOUNT_ID}:profile/${randomUUID()}`;
  const roleArn = `arn:aws:iam::${DEMO_ACCOUNT_ID}:role/emulator-demo`;
  const config: EmulatorConfig = {
    region,
    accountId: DEMO_ACCOUNT_ID,
    trustAnchors: [{ arn: trustAnchorArn, certificates: ['ca.pem'], enabled: true }],
    profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, acceptRoleSessionName: true, enabled: true }],
  };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Check every target first so a clash leaves the directory as it was, not half written.
  for (const path of Object.values(files)) {
    if (existsSync(path)) {
      throw new SignerError('USAGE', `${path} already exists; emulate --init never overwrites files: pick an empty directory`);
    }
  }
  // 'wx' fails on an existing file: never clobber a key someone may rely on.
  await writeExclusive(files.caCertificate, ca.certificatePem, 0o644);
  await writeExclusive(files.caKey, ca.privateKeyPem, 0o600);
  await writeExclusive(files.clientKey, client.privateKeyPem, 0o600);
  await writeExclusive(files.clientCertificate, clientCertificate.certificatePem, 0o644);
  await writeExclusive(files.config, `${JSON.stringify(config, null, 2)}\n`, 0o644);

  const endpoint = port === 0 ? '"$ENDPOINT"' : `http://127.0.0.1:${port}`;
  const instructions = [
    `Wrote a throwaway PKI and an emulator config to ${dir}:`,
    `  ${files.caCertificate}  CA certificate, the emulator's trust anchor`,
    `  ${files.caKey}  CA private key (mode 0600; throwaway: never trust this CA anywhere else)`,
    `  ${files.clientKey}  client private key (mode 0600)`,
    `  ${files.clientCertificate}  client certificate (CN=emulator-client)`,
    `  ${files.config}  emulator config`,
    '',
    port === 0 ? 'Next, start the emulator (--port 0 picks a free port; its URL is the first line it prints):' : 'Next, start the emulator:',
    `  roles-anywhere-signer emulate --config ${files.config} --port ${port}`,
    port === 0 ? 'then, in another shell, get credentials from it (ENDPOINT is that URL):' : 'then, in another shell, get credentials from it:',
    `  roles-anywhere-signer credential-process --certificate ${files.clientCertificate} --private-key ${files.clientKey} \\`,
    `    --trust-anchor-arn ${trustAnchorArn} \\`,
    `    --profile-arn ${profileArn} \\`,
    `    --role-arn ${roleArn} --endpoint ${endpoint}`,
    'and check them against the emulator\'s STS:',
    `  aws sts get-caller-identity --endpoint-url ${endpoint} --region ${region}  (with the credentials exported)`,
  ].join('\n');
  return { directory: dir, files, config, trustAnchorArn, profileArn, roleArn, instructions };
}

const INIT_KEY_TYPES: ReadonlyMap<string, KeyAlgorithm> = new Map([
  ['ec-p256', 'EC-P256'],
  ['ec-p384', 'EC-P384'],
  ['rsa-2048', 'RSA-2048'],
  ['rsa-3072', 'RSA-3072'],
  ['ml-dsa-44', 'ML-DSA-44'],
  ['ml-dsa-65', 'ML-DSA-65'],
  ['ml-dsa-87', 'ML-DSA-87'],
]);

/** `emulate --init --key-type`: case-insensitive, e.g. ml-dsa-65 or ML-DSA-65. */
export function parseInitKeyType(value: string): KeyAlgorithm {
  const algorithm = INIT_KEY_TYPES.get(value.toLowerCase());
  if (algorithm === undefined) {
    throw new SignerError('USAGE', `--key-type ${value} is not one of ${[...INIT_KEY_TYPES.keys()].join(', ')}`);
  }
  return algorithm;
}

async function writeExclusive(path: string, content: string, mode: number): Promise<void> {
  try {
    await writeFile(path, content, { flag: 'wx', mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SignerError('USAGE', `${path} already exists; emulate --init never overwrites files: pick an empty directory`, { cause: error });
    }
    throw new SignerError('CONFIG_INVALID', `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the directory's permissions`, { cause: error });
  }
}
