/**
 * The same RSA key on a SoftHSM token (pkcs11: URI, both programs on the same module) and in a
 * software TPM (a TSS2 PRIVATE KEY file on swtpm, both programs through TPM_DEVICE on swtpm's
 * UNIX socket): the requests compared like the key-file ones, and the reference's signature
 * checked over the string to sign our core builds from its request. PKCS#1 v1.5 has exactly one
 * valid signature per key and message, so a signature that verifies there is the one our key
 * source makes for the same input.
 */
import t, { type Test } from 'tap';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTpmKeys, startSwtpm, type RunningSwtpm } from '../../scripts/fixtures/swtpm.js';
import { REGION, startRig, type Rig } from '../helpers/emulator-rig.js';
import { buildSoftHsmFixture } from '../keys/pkcs11/softhsm-fixture.js';
import { requestDifferences, resignWithOurCore, signatureVerifies } from './compare.js';
import { assertRequestRow, captureBoth, findSideBySide, runOurs, runReference, runReferenceOnTerminal, skipUnless, type SideBySide } from './harness.js';
import { resultRow } from './results.js';

const found = await findSideBySide();
const skip = skipUnless(found);

let rig: Rig;
t.before(async () => {
  if (found.ok) rig = await startRig();
});
t.teardown(async () => {
  await rig?.close();
});

/** A signer that must never be called: the re-signing here only needs the string to sign. */
const stringToSignOnly = { keyType: 'RSA' as const, sign: async (): Promise<Uint8Array> => new Uint8Array(0) };

async function compareThrough(t: Test, sides: SideBySide, rowId: string, args: readonly string[], env: Record<string, string>, referenceOnTerminal = false): Promise<void> {
  const pair = await captureBoth(t, sides, rig, args, { env, referenceOnTerminal });
  if (pair === undefined) return;
  assertRequestRow(t, sides, rowId, requestDifferences(pair.reference, pair.ours));
  const again = await resignWithOurCore(pair.reference, stringToSignOnly, REGION);
  t.ok(signatureVerifies(pair.reference, again.stringToSign), "the reference's RSA signature verifies over our string to sign");
  t.notOk(signatureVerifies(pair.reference, `${again.stringToSign}.`), 'and over nothing else');
}

t.test('the same RSA-2048 key on SoftHSM through a pkcs11: URI', { skip }, async (t) => {
  if (!found.ok) return;
  const token = await buildSoftHsmFixture(t, ['rsa-2048']);
  const key = token.key('rsa-2048');
  const certificate = await rig.issueCertificateFor('softhsm-rsa-2048', new X509Certificate(key.certificate).publicKey);
  const uri = `pkcs11:token=${token.tokenLabel};object=${key.label};type=private?pin-value=${token.pin}`;
  await t.test('credential-process: the same request', async (t) => {
    await compareThrough(t, found.value, 'request-pkcs11-rsa', ['--certificate', certificate.certificatePath, '--private-key', uri, '--pkcs11-lib', token.module, '--intermediates', join(rig.dir, 'intermediate.pem')], {
      SOFTHSM2_CONF: token.conf,
    });
  });

  await t.test('read-certificate-data with a pkcs11: URI: the same listing, ours says more', async (t) => {
    const args = ['read-certificate-data', '--certificate', `pkcs11:token=${token.tokenLabel};object=${key.label};type=cert`, '--pkcs11-lib', token.module];
    const env = { SOFTHSM2_CONF: token.conf };
    const [reference, ours] = [await runReference(found.value, args, env), await runOurs(args, env)];
    t.equal(reference.code, 0, `the reference lists: ${reference.stderr}`);
    t.equal(ours.code, 0, `ours lists: ${ours.stderr}`);
    const der = Buffer.from(key.certificate);
    const subject = '"CN=rsa-2048,O=roles-anywhere-signer tests"';
    const referenceLines = reference.stdout.split('\n');
    const ourLines = ours.stdout.split('\n');
    t.equal(referenceLines[0], 'Matching identities');
    t.equal(ourLines[0], 'Matching identities', 'the same heading');
    t.equal(referenceLines[1], `1) ${createHash('sha1').update(der).digest('hex')} ${subject}`, 'the reference: SHA-1 fingerprint and subject');
    t.equal(ourLines[1], `1) ${createHash('sha256').update(der).digest('hex')} ${subject}`, 'ours: SHA-256 fingerprint and the same subject');
    const uriAttributes = (line: string | undefined): string[] => (line ?? '').replace(/^\tURI: pkcs11:/, '').split(';').filter((part) => /^(object|type|id|serial|model|manufacturer)=/.test(part)).sort();
    const referenceUri = referenceLines.find((line) => line.startsWith('\tURI: '));
    const ourUri = ourLines.find((line) => line.startsWith('\tURI: '));
    t.same(uriAttributes(ourUri), uriAttributes(referenceUri), 'both URIs name the same token and object');
    t.ok(uriAttributes(ourUri).length >= 5, 'with its serial, model, manufacturer, id, object and type');
    t.ok(['Issuer:', 'Serial:', 'Valid:', 'Key:'].every((field) => ourLines.some((line) => line.startsWith(`\t${field}`))), 'ours adds issuer, serial, validity and key type');
    t.equal(resultRow('read-certificate-data-pkcs11').outcome, 'differs');
  });
});

t.test('the same RSA-2048 TSS2 key file on swtpm through TPM_DEVICE', { skip }, async (t) => {
  if (!found.ok) return;
  const dir = await mkdtemp(join(tmpdir(), 'ras-diff-tpm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const stateDir = join(dir, 'state');
  // The key tools reach swtpm over TCP only; both programs then use its UNIX socket, which is
  // the one form of TPM_DEVICE the reference accepts besides a device node.
  const tcp = await startSwtpm({ stateDir, mode: 'tcp' });
  let fixture;
  try {
    fixture = await createTpmKeys(tcp, join(dir, 'keys'), ['rsa-2048']);
  } finally {
    await tcp.stop();
  }
  const key = fixture.keys['rsa-2048'];
  if (key?.keyPath === undefined) return void t.fail('no RSA TPM key was made');
  const unix: RunningSwtpm = await startSwtpm({ stateDir, mode: 'unix' });
  t.teardown(() => unix.stop());
  const certificate = await rig.issueCertificateFor('tpm-rsa-2048', new X509Certificate(key.certificateDer).publicKey);
  const env = { TPM_DEVICE: unix.socketPath ?? '' };
  const keyArgs = ['--certificate', certificate.certificatePath, '--private-key', key.keyPath];

  await t.test('without a terminal the reference cannot sign; ours can', async (t) => {
    const [reference, ours] = [await runReference(found.value, ['sign-string', ...keyArgs, '--format', 'text'], env), await runOurs(['sign-string', ...keyArgs, '--format', 'text'], env)];
    t.equal(reference.code, 1, 'the reference fails');
    t.match(reference.stderr, /unable to read your TPM key password/, 'it wanted /dev/tty although the key has no password');
    t.equal(ours.code, 0, `ours signs: ${ours.stderr}`);
    t.equal(resultRow('tpm-no-terminal').outcome, 'differs on purpose');
  });

  await t.test('sign-string: identical signature from the same TPM key', async (t) => {
    for (const digest of ['SHA256', 'SHA384', 'SHA512']) {
      const args = ['sign-string', ...keyArgs, '--format', 'text', '--digest', digest];
      const reference = await runReferenceOnTerminal(found.value, args, env);
      const ours = await runOurs(args, env);
      t.equal(ours.code, 0, `ours ${digest}: ${ours.stderr}`);
      t.match(reference.stdout, /^[0-9a-f]{512}$/, `the reference printed a signature (${digest})`);
      t.equal(ours.stdout, reference.stdout, `${digest}: identical`);
    }
    t.equal(resultRow('sign-string-tpm-rsa').outcome, 'identical');
  });

  await t.test('credential-process: the same request', async (t) => {
    await compareThrough(t, found.value, 'request-tpm-rsa', [...keyArgs, '--intermediates', join(rig.dir, 'intermediate.pem')], env, true);
  });
});
