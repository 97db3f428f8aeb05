/**
 * awslabs' Python iam-rolesanywhere-session (PyPI), a client of CreateSession written without
 * this project or the Go helper in mind: the emulator must accept its request. The library always
 * calls https://<endpoint>/sessions and sends the ARNs in the JSON body, not the query, so this
 * also covers the emulator's TLS listener and body ARNs. It is installed once per machine into a
 * venv in the same cache as the reference helper.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate, type ClassicKeyAlgorithm } from '../../src/emulator/pki.js';
import { isolatedEnv } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { referenceCacheDir } from '../../scripts/fixtures/reference-helper.js';
import { resultRow } from './results.js';

const execFileAsync = promisify(execFile);
const LIBRARY = 'iam-rolesanywhere-session';
const VERSION = '3.0.0';
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

async function findPythonLibrary(): Promise<{ ok: true; python: string } | { ok: false; reason: string }> {
  const venv = join(referenceCacheDir(), '..', 'python', `${LIBRARY}-${VERSION}`);
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, 'installed');
  if (existsSync(marker)) return { ok: true, python };
  try {
    await execFileAsync('python3', ['-m', 'venv', venv], { timeout: 120_000 });
    await execFileAsync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `${LIBRARY}==${VERSION}`], { timeout: 300_000 });
    await writeFile(marker, `${LIBRARY}==${VERSION}\n`);
    return { ok: true, python };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n').slice(-3).join(' ') : String(error);
    return { ok: false, reason: `cannot install ${LIBRARY}==${VERSION} into ${venv} (python3 with venv and PyPI are needed): ${message.slice(0, 200)}` };
  }
}

const found = await findPythonLibrary();
const skip = found.ok ? false : found.reason;

let dir: string;
let emulator: RunningEmulator;
let root: Awaited<ReturnType<typeof createCertificateAuthority>>;
let intermediate: Awaited<ReturnType<typeof createCertificateAuthority>>;
const trustAnchorArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/00000000-0000-4000-8000-0000000000aa`;
const profileArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/00000000-0000-4000-8000-0000000000bb`;
const roleArn = `arn:aws:iam::${ACCOUNT}:role/python-role`;
let serverCertificatePath: string;

t.before(async () => {
  if (!found.ok) return;
  dir = await mkdtemp(join(tmpdir(), 'ras-diff-python-'));
  serverCertificatePath = join(dir, 'server.pem');
  const serverKeyPath = join(dir, 'server.key');
  // A self-signed server certificate for 127.0.0.1, which the library is told to trust.
  await execFileAsync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE', '-days', '1', '-keyout', serverKeyPath, '-out', serverCertificatePath], { timeout: 30_000 });
  root = await createCertificateAuthority({ subject: 'CN=Python Root CA', keyAlgorithm: 'EC-P256' });
  intermediate = await createCertificateAuthority({ subject: 'CN=Python Issuing CA', keyAlgorithm: 'EC-P256', issuer: root, pathLength: 0 });
  emulator = await startEmulator(
    {
      region: REGION,
      accountId: ACCOUNT,
      trustAnchors: [{ arn: trustAnchorArn, certificates: [root.certificatePem], enabled: true }],
      profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, acceptRoleSessionName: true, enabled: true }],
    },
    { port: 0, host: '127.0.0.1', tls: { certPem: await readFile(serverCertificatePath, 'utf8'), keyPem: await readFile(serverKeyPath, 'utf8') } },
  );
});
t.teardown(async () => {
  await emulator?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function fetchWithPython(keyAlgorithm: ClassicKeyAlgorithm, extra: Record<string, unknown>): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!found.ok) throw new Error('unreachable');
  const pair = generateKeyPair(keyAlgorithm);
  const leaf = await issueLeafCertificate({ issuer: intermediate, subject: `CN=python-${keyAlgorithm}`, publicKey: pair.publicKey });
  const name = `${keyAlgorithm}-${Object.keys(extra).join('-')}`;
  const paths = { certificate: join(dir, `${name}.crt`), privateKey: join(dir, `${name}.key`), chain: join(dir, `${name}.chain`) };
  await writeFile(paths.certificate, leaf.certificatePem);
  await writeFile(paths.privateKey, pair.privateKeyPem, { mode: 0o600 });
  await writeFile(paths.chain, intermediate.certificatePem);
  const options = { ...paths, profileArn, roleArn, trustAnchorArn, region: REGION, endpoint: new URL(emulator.url).host, caBundle: serverCertificatePath, ...extra };
  try {
    const { stdout, stderr } = await execFileAsync(found.python, [join(repoRoot, 'test', 'differential', 'python-session.py'), JSON.stringify(options)], { env: isolatedEnv(), timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

for (const [keyAlgorithm, extra] of [
  ['RSA-2048', {}],
  ['EC-P256', { roleSessionName: 'python-session', durationSeconds: 900 }],
  ['EC-P384', {}],
] as const) {
  t.test(`the Python library's CreateSession request (${keyAlgorithm}${Object.keys(extra).length > 0 ? ', role session name, 900 s' : ''}) is accepted`, { skip }, async (t) => {
    const before = emulator.stats.createSession;
    const result = await fetchWithPython(keyAlgorithm, extra);
    t.equal(result.code, 0, `the library got credentials: ${result.stderr.split('\n').slice(-3).join(' ')}`);
    const printed = JSON.parse(result.stdout || '{}') as { accessKeyId?: string; hasSecret?: boolean; hasToken?: boolean };
    t.match(printed.accessKeyId ?? '', /^ASIA[A-Z0-9]{16}$/);
    t.equal(printed.hasSecret, true);
    t.equal(printed.hasToken, true);
    t.equal(emulator.stats.createSession, before + 1, 'one CreateSession reached the emulator');
    t.equal(resultRow('python-session').outcome, 'accepted');
  });
}

t.test('a request the emulator must refuse is refused for the Python library too', { skip }, async (t) => {
  const result = await fetchWithPython('EC-P256', { trustAnchorArn: trustAnchorArn.replace(/aa$/, 'ff') });
  t.not(result.code, 0, 'no credentials for an unknown trust anchor');
  t.match(result.stderr, /403|ResourceNotFound|not found|Untrusted|AccessDenied/i);
});
