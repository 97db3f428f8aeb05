/**
 * The CreateSession request, byte for byte, from the reference helper and from ours: the same key
 * files, certificates and flags, our clock frozen at the second the reference signed. Each request
 * goes through a capture server to the emulator, which must accept both.
 */
import t from 'tap';
import { createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueLeafCertificate, type KeyAlgorithm } from '../../src/emulator/pki.js';
import { REGION, startRig, type Rig } from '../helpers/emulator-rig.js';
import { headerValue } from './capture.js';
import { requestDifferences, resignWithOurCore, signatureVerifies } from './compare.js';
import { assertRequestRow, assertSucceeded, captureBoth, findSideBySide, runOurs, runReference, skipUnless, type CapturedPair } from './harness.js';
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

interface Identity {
  readonly keyPath: string;
  readonly certificatePath: string;
  readonly chainPath: string;
}

const identities = new Map<KeyAlgorithm, Promise<Identity>>();
/** A key file and a certificate from the intermediate (send --intermediates). */
function identity(keyAlgorithm: KeyAlgorithm): Promise<Identity> {
  let pending = identities.get(keyAlgorithm);
  if (pending === undefined) {
    pending = rig.issueFileIdentity(`diff-${keyAlgorithm.toLowerCase()}`, keyAlgorithm);
    identities.set(keyAlgorithm, pending);
  }
  return pending;
}

/** The same key with a certificate straight from the trust anchor: trusted without a chain. */
async function rootIssuedIdentity(keyAlgorithm: KeyAlgorithm): Promise<Identity> {
  const id = await identity(keyAlgorithm);
  const issued = await issueLeafCertificate({ issuer: rig.root, subject: `CN=diff-root-${keyAlgorithm.toLowerCase()}`, publicKey: createPublicKey(createPrivateKey(await readFile(id.keyPath))) });
  const certificatePath = join(rig.dir, `diff-root-${keyAlgorithm.toLowerCase()}.cert.pem`);
  await writeFile(certificatePath, issued.certificatePem);
  return { ...id, certificatePath };
}

interface RequestCase {
  readonly rowId: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly intermediates: boolean;
  readonly extra: readonly string[];
}

const CASES: readonly RequestCase[] = [
  { rowId: 'request-rsa2048', keyAlgorithm: 'RSA-2048', intermediates: false, extra: [] },
  { rowId: 'request-rsa2048-intermediates', keyAlgorithm: 'RSA-2048', intermediates: true, extra: [] },
  { rowId: 'request-rsa3072-intermediates', keyAlgorithm: 'RSA-3072', intermediates: true, extra: [] },
  { rowId: 'request-rsa2048-session-name', keyAlgorithm: 'RSA-2048', intermediates: true, extra: ['--role-session-name', 'diff-session.1@example'] },
  { rowId: 'request-rsa2048-duration', keyAlgorithm: 'RSA-2048', intermediates: true, extra: ['--session-duration', '900'] },
  { rowId: 'request-ec-p256', keyAlgorithm: 'EC-P256', intermediates: true, extra: [] },
  { rowId: 'request-ec-p384', keyAlgorithm: 'EC-P384', intermediates: true, extra: [] },
];

const captured = new Map<string, CapturedPair>();

for (const testCase of CASES) {
  t.test(`${resultRow(testCase.rowId).comparison}: the same request`, { skip }, async (t) => {
    if (!found.ok) return;
    const id = testCase.intermediates ? await identity(testCase.keyAlgorithm) : await rootIssuedIdentity(testCase.keyAlgorithm);
    const args = ['--certificate', id.certificatePath, '--private-key', id.keyPath, ...(testCase.intermediates ? ['--intermediates', id.chainPath] : []), ...testCase.extra];
    const pair = await captureBoth(t, found.value, rig, args);
    if (pair === undefined) return;
    captured.set(testCase.rowId, pair);
    t.equal(headerValue(pair.ours, 'x-amz-x509-chain') !== undefined, testCase.intermediates, 'a chain is sent exactly when --intermediates is given');
    assertRequestRow(t, found.value, testCase.rowId, requestDifferences(pair.reference, pair.ours));
  });
}

// ML-DSA needs a reference with AWS4-X509-MLDSA (v1.8.0 or later): skipped with the reason until
// one builds here, then shown as a todo (not written yet) rather than passing silently.
const referenceHasMlDsa = found.ok && !/^v1\.[0-7]\./.test(found.value.reference.version);
t.test(
  'ML-DSA key files: identical Authorization',
  referenceHasMlDsa ? { todo: 'a reference with ML-DSA builds now: write this comparison (results.ts request-mldsa)' } : { skip: skip === false ? resultRow('request-mldsa').note : skip },
  async (t) => {
    t.fail('not written: no reference with ML-DSA was available when this suite was written');
  },
);

/** A RequestSigner over a key file, with node:crypto: the core is what is compared here. */
async function fileSigner(keyAlgorithm: KeyAlgorithm): Promise<{ keyType: 'RSA' | 'EC'; sign(message: Uint8Array): Promise<Uint8Array> }> {
  const key = createPrivateKey(await readFile((await identity(keyAlgorithm)).keyPath));
  return { keyType: keyAlgorithm.startsWith('RSA') ? 'RSA' : 'EC', sign: async (message) => cryptoSign('sha256', message, key) };
}

t.test("RSA: our core re-signs the reference's own request to the same Authorization", { skip }, async (t) => {
  if (!found.ok) return;
  for (const rowId of ['request-rsa2048', 'request-rsa2048-intermediates', 'request-rsa3072-intermediates', 'request-rsa2048-session-name', 'request-rsa2048-duration']) {
    const pair = captured.get(rowId);
    if (pair === undefined) {
      t.fail(`${rowId} captured nothing`);
      continue;
    }
    const keyAlgorithm = CASES.find((c) => c.rowId === rowId)?.keyAlgorithm ?? 'RSA-2048';
    const again = await resignWithOurCore(pair.reference, await fileSigner(keyAlgorithm), REGION);
    t.equal(again.authorization, headerValue(pair.reference, 'authorization'), `${rowId}: identical Authorization`);
  }
});

t.test("EC: the reference's signature verifies over the string to sign our core builds", { skip }, async (t) => {
  if (!found.ok) return;
  for (const rowId of ['request-ec-p256', 'request-ec-p384']) {
    const pair = captured.get(rowId);
    if (pair === undefined) {
      t.fail(`${rowId} captured nothing`);
      continue;
    }
    const keyAlgorithm = CASES.find((c) => c.rowId === rowId)?.keyAlgorithm ?? 'EC-P256';
    const again = await resignWithOurCore(pair.reference, await fileSigner(keyAlgorithm), REGION);
    t.ok(signatureVerifies(pair.reference, again.stringToSign), `${rowId}: the reference's signature verifies over our string to sign`);
    t.ok(signatureVerifies(pair.reference, `${again.stringToSign}x`) === false, `${rowId}: and not over a different one (the check can fail)`);
  }
});

t.test('credential-process prints the same bytes for the same answer', { skip }, async (t) => {
  if (!found.ok) return;
  const id = await identity('RSA-2048');
  const args = ['--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath];
  // Both get the answer the emulator gave the reference: the same credentials and expiry.
  const pair = await captureBoth(t, found.value, rig, args, { beforeOurs: (capture) => capture.fixAnswer(capture.requests[0]?.upstreamBody) });
  if (pair === undefined) return;
  t.match(pair.referenceStdout, /^\{"Version":1,"AccessKeyId":"ASIA/, 'the reference printed credentials');
  t.equal(pair.ourStdout, pair.referenceStdout, 'stdout byte for byte identical');
});

t.test('AWS_CA_BUNDLE in the environment: the reference cannot call CreateSession, ours can', { skip }, async (t) => {
  if (!found.ok) return;
  const id = await identity('EC-P256');
  const bundle = join(rig.dir, 'ca-bundle.pem');
  await writeFile(bundle, rig.root.certificatePem);
  const args = ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags];
  const [reference, ours] = await Promise.all([runReference(found.value, args, { AWS_CA_BUNDLE: bundle }), runOurs(args, { AWS_CA_BUNDLE: bundle })]);
  t.equal(reference.code, 1, 'the reference fails');
  t.match(reference.stderr, /unable to add custom RootCAs HTTPClient/, 'its SDK cannot add the bundle to its own HTTP client');
  assertSucceeded(t, 'ours', ours);
  t.match(ours.stdout, /^\{"Version":1,"AccessKeyId":"ASIA/);
  t.equal(resultRow('aws-ca-bundle').outcome, 'differs on purpose');
});
