/**
 * sign-string (every --format and --digest) and read-certificate-data, from the reference helper
 * and from ours, on the same key and certificate files.
 */
import t from 'tap';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueLeafCertificate, generateKeyPair, type KeyAlgorithm } from '../../src/emulator/pki.js';
import { signingTestMessage } from '../../src/keys/sign-test-string.js';
import { assertSucceeded, findSideBySide, ourCli, runBytes, runOurs, runReference, skipUnless } from './harness.js';
import { resultRow } from './results.js';

const found = await findSideBySide();
const skip = skipUnless(found);

interface KeyFiles {
  readonly keyPath: string;
  readonly certificatePath: string;
}

let dir: string;
const files = new Map<KeyAlgorithm, KeyFiles>();
t.before(async () => {
  if (!found.ok) return;
  dir = await mkdtemp(join(tmpdir(), 'ras-diff-commands-'));
  const ca = await createCertificateAuthority({ subject: 'CN=Diff CA', keyAlgorithm: 'EC-P256' });
  for (const keyAlgorithm of ['RSA-2048', 'EC-P256', 'EC-P384'] as const) {
    const pair = generateKeyPair(keyAlgorithm);
    const leaf = await issueLeafCertificate({ issuer: ca, subject: `CN=diff-${keyAlgorithm}`, publicKey: pair.publicKey });
    const keyPath = join(dir, `${keyAlgorithm}.key.pem`);
    const certificatePath = join(dir, `${keyAlgorithm}.cert.pem`);
    await writeFile(keyPath, pair.privateKeyPem, { mode: 0o600 });
    await writeFile(certificatePath, leaf.certificatePem);
    files.set(keyAlgorithm, { keyPath, certificatePath });
  }
});
t.teardown(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const FORMATS = ['json', 'text', 'bin'] as const;
const DIGESTS = ['SHA256', 'SHA384', 'SHA512'] as const;

function keyFiles(keyAlgorithm: KeyAlgorithm): KeyFiles {
  const found = files.get(keyAlgorithm);
  if (found === undefined) throw new Error(`no ${keyAlgorithm} fixture`);
  return found;
}

/** sign-string with stdout as bytes (`--format bin` is binary). */
async function signString(who: 'reference' | 'ours', args: readonly string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  if (!found.ok) throw new Error('unreachable');
  return who === 'reference' ? runBytes(found.value.reference.path, ['sign-string', ...args]) : runBytes(process.execPath, [ourCli, 'sign-string', ...args]);
}

t.test('sign-string with an RSA key file: identical output for every format and digest', { skip }, async (t) => {
  const { keyPath, certificatePath } = keyFiles('RSA-2048');
  for (const format of FORMATS) {
    for (const digest of DIGESTS) {
      const args = ['--certificate', certificatePath, '--private-key', keyPath, '--format', format, '--digest', digest];
      const [reference, ours] = await Promise.all([signString('reference', args), signString('ours', args)]);
      t.equal(reference.code, 0, `reference ${format}/${digest} exits 0 ${reference.stderr}`);
      t.equal(ours.code, 0, `ours ${format}/${digest} exits 0 ${ours.stderr}`);
      t.ok(reference.stdout.length > 0 && reference.stdout.equals(ours.stdout), `${format}/${digest}: identical bytes`);
    }
  }
  t.equal(resultRow('sign-string-rsa').outcome, 'identical');
});

t.test('sign-string with EC key files: both signatures verify over the same test string', { skip }, async (t) => {
  for (const keyAlgorithm of ['EC-P256', 'EC-P384'] as const) {
    const { keyPath, certificatePath } = keyFiles(keyAlgorithm);
    const publicKey = createPublicKey(createPrivateKey(await readFile(keyPath)));
    const message = signingTestMessage(publicKey);
    for (const format of FORMATS) {
      for (const digest of DIGESTS) {
        const args = ['--certificate', certificatePath, '--private-key', keyPath, '--format', format, '--digest', digest];
        const [reference, ours] = await Promise.all([signString('reference', args), signString('ours', args)]);
        const decode = (stdout: Buffer): Buffer =>
          format === 'bin' ? stdout : Buffer.from(format === 'json' ? (JSON.parse(stdout.toString('utf8')) as string) : stdout.toString('utf8'), 'hex');
        const shape = format === 'json' ? /^"[0-9a-f]+"$/ : format === 'text' ? /^[0-9a-f]+$/ : /[\s\S]/;
        t.match(reference.stdout.toString('latin1'), shape, `reference ${keyAlgorithm} ${format}/${digest}: shape`);
        t.match(ours.stdout.toString('latin1'), shape, `ours ${keyAlgorithm} ${format}/${digest}: shape`);
        const hash = digest.replace('SHA', 'sha');
        t.ok(verify(hash, message, publicKey, decode(reference.stdout)), `reference ${keyAlgorithm} ${format}/${digest} verifies`);
        t.ok(verify(hash, message, publicKey, decode(ours.stdout)), `ours ${keyAlgorithm} ${format}/${digest} verifies`);
      }
    }
  }
  t.equal(resultRow('sign-string-ec').outcome, 'equivalent');
});

t.test('sign-string without --certificate: the reference needs it, ours does not', { skip }, async (t) => {
  const { keyPath } = keyFiles('RSA-2048');
  const [reference, ours] = await Promise.all([signString('reference', ['--private-key', keyPath]), signString('ours', ['--private-key', keyPath])]);
  t.equal(reference.code, 1, 'the reference fails');
  t.match(reference.stderr, /undefined certificate value/);
  assertSucceeded(t, 'ours', { code: ours.code, stdout: '', stderr: ours.stderr });
  t.match(ours.stdout.toString('latin1'), /^"[0-9a-f]{512}"$/);
  t.equal(resultRow('sign-string-no-certificate').outcome, 'differs on purpose');
});

t.test('read-certificate-data on certificate files: identical output', { skip }, async (t) => {
  if (!found.ok) return;
  for (const keyAlgorithm of ['RSA-2048', 'EC-P256', 'EC-P384'] as const) {
    const args = ['read-certificate-data', '--certificate', keyFiles(keyAlgorithm).certificatePath];
    const [reference, ours] = await Promise.all([runReference(found.value, args), runOurs(args)]);
    assertSucceeded(t, `reference ${keyAlgorithm}`, reference);
    assertSucceeded(t, `ours ${keyAlgorithm}`, ours);
    t.match(reference.stdout, /"certificateData":"MII/, `${keyAlgorithm}: the reference printed the certificate`);
    t.equal(ours.stdout, reference.stdout, `${keyAlgorithm}: identical stdout`);
  }
  t.equal(resultRow('read-certificate-data').outcome, 'identical');
});
