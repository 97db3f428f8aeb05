/**
 * AWS4-X509-MLDSA known answers (test/vectors/sigv4x509-mldsa.json): signatures made by
 * Cloudflare CIRCL (Go), canonical forms by the independent Python verifier. The signer
 * (file key source on @noble/post-quantum + src/sigv4x509) must reproduce every byte; the
 * emulator must accept each request and refuse altered ones; node:crypto cross-checks where
 * the running Node has ML-DSA; CIRCL itself re-runs where Go is installed.
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { handleCreateSession } from '../../src/emulator/create-session.js';
import { resolveEmulatorConfig } from '../../src/emulator/config.js';
import { createSessionStore } from '../../src/emulator/sessions.js';
import { createCertificateAuthority } from '../../src/emulator/pki.js';
import type { ReceivedRequest } from '../../src/emulator/canonical-request.js';
import { openFileKeySource } from '../../src/keys/file.js';
import { signTestString } from '../../src/keys/sign-test-string.js';
import type { KeySource } from '../../src/keys/types.js';
import { signRequest } from '../../src/sigv4x509/index.js';
import type { SigningRequest } from '../../src/sigv4x509/types.js';
import { buildCirclMlDsa, runCirclMlDsa } from '../helpers/circl-mldsa.js';
import { readVectors, type OwnVectors } from './vectors.js';

interface MlDsaVectors {
  readonly anchorPem: string;
  readonly intermediatePem: string;
  readonly keys: Record<string, { parameterSet: string; seedHex: string; privateKeyPem: string; certificatePem: string; issuer: string }>;
  readonly cases: ReadonlyArray<{
    name: string; key: string; region: string; signingDate: string; withChain: boolean; request: SigningRequest; wireQuery: string;
    expected: { headers: Record<string, string>; canonicalRequest: string; stringToSign: string; signedHeaders: string; authorization: string; signatureHex: string };
  }>;
  readonly signString: ReadonlyArray<{ key: string; messageHex: string; signatureHex: string }>;
}

const vectors = readVectors<MlDsaVectors>('sigv4x509-mldsa.json');
const der = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw);

const dir = await mkdtemp(join(tmpdir(), 'mldsa-vectors-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const sources = new Map<string, KeySource>();
for (const [name, key] of Object.entries(vectors.keys)) {
  const path = join(dir, `${name}.pem`);
  await writeFile(path, key.privateKeyPem, { mode: 0o600 });
  sources.set(name, await openFileKeySource({ kind: 'file', keyPath: path }));
}
t.teardown(async () => {
  for (const source of sources.values()) await source.close();
});
const sourceFor = (name: string): KeySource => {
  const source = sources.get(name);
  if (source === undefined) throw new Error(`no key ${name}`);
  return source;
};

t.test('the signer reproduces every request of the vectors byte for byte', async (t) => {
  t.equal(vectors.cases.length, 3);
  for (const vector of vectors.cases) {
    const key = vectors.keys[vector.key];
    if (key === undefined) throw new Error(`no key ${vector.key}`);
    const signed = await signRequest(vector.request, {
      signer: sourceFor(vector.key),
      certificate: der(key.certificatePem),
      chain: vector.withChain ? [der(vectors.intermediatePem)] : [],
      region: vector.region,
      signingDate: new Date(vector.signingDate),
    });
    t.equal(signed.canonicalRequest, vector.expected.canonicalRequest, `${vector.name}: canonical request`);
    t.equal(signed.stringToSign, vector.expected.stringToSign, `${vector.name}: string to sign`);
    t.ok(signed.stringToSign.startsWith('AWS4-X509-MLDSA\n'), `${vector.name}: algorithm AWS4-X509-MLDSA`);
    t.equal(Buffer.from(signed.signature).toString('hex'), vector.expected.signatureHex, `${vector.name}: the CIRCL signature, byte for byte`);
    t.equal(signed.headers['authorization'], vector.expected.authorization, `${vector.name}: Authorization`);
    t.same(signed.headers, vector.expected.headers, `${vector.name}: every header (user-agent sent, not signed)`);
  }
});

t.test('sign-string: the deterministic signature of the bare test string', async (t) => {
  for (const vector of vectors.signString) {
    const text = Buffer.from(await signTestString(sourceFor(vector.key), { format: 'text' })).toString('latin1');
    t.equal(text, vector.signatureHex, `${vector.key}: sign-string --format text`);
    const refused = await signTestString(sourceFor(vector.key), { format: 'text', digest: 'SHA384' }).then(() => undefined, (error: unknown) => error as { code: string; message: string });
    t.equal(refused?.code, 'USAGE', `${vector.key}: an explicit digest is refused`);
    t.equal(refused?.message, '--digest does not apply to an ML-DSA key: pure ML-DSA signs the test string itself, with no separate digest; leave --digest out');
  }
});

function configFor(region: string, anchors: readonly string[] = [vectors.anchorPem]) {
  return resolveEmulatorConfig({
    region,
    accountId: '123456789012',
    trustAnchors: [{ arn: `arn:aws:rolesanywhere:${region}:123456789012:trust-anchor/4d3c2b1a-0f9e-4d8c-8b7a-6a5b4c3d2e1f`, certificates: [...anchors] }],
    profiles: [{ arn: `arn:aws:rolesanywhere:${region}:123456789012:profile/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`, roleArns: ['arn:aws:iam::123456789012:role/mldsa-vector-role'], acceptRoleSessionName: true }],
  });
}

function received(vector: MlDsaVectors['cases'][number], change: { body?: Buffer; authorization?: string } = {}): ReceivedRequest {
  const headers: Record<string, string> = { ...vector.expected.headers };
  if (change.authorization !== undefined) headers['authorization'] = change.authorization;
  return { method: 'POST', path: vector.request.path, rawQuery: vector.wireQuery, headers, body: change.body ?? Buffer.from(vector.request.body) };
}

t.test('the emulator accepts each vector and refuses altered ones with the service wording', async (t) => {
  for (const vector of vectors.cases) {
    const context = { config: configFor(vector.region), sessions: createSessionStore(), now: new Date(vector.signingDate) };
    const outcome = await handleCreateSession(received(vector), context);
    t.equal(outcome.ok ? 'accepted' : `${outcome.rejection.reason}: ${outcome.rejection.detail}`, 'accepted', `${vector.name}: accepted`);

    const tampered = await handleCreateSession(received(vector, { body: Buffer.from(vector.request.body.replace('}', ',"x":1}')) }), context);
    t.same(tampered.ok ? 'accepted' : [tampered.rejection.status, tampered.rejection.message, tampered.rejection.reason], [403, 'Invalid signature', 'SIGNATURE_MISMATCH'], `${vector.name}: changed body`);

    // The same request claimed as ECDSA: the algorithm does not fit the ML-DSA key.
    const asEcdsa = received(vector, { authorization: vector.expected.authorization.replace('AWS4-X509-MLDSA', 'AWS4-X509-ECDSA-SHA256') });
    const ecdsa = await handleCreateSession(asEcdsa, context);
    t.same(ecdsa.ok ? 'accepted' : [ecdsa.rejection.message, ecdsa.rejection.reason], ['Invalid signature', 'ALGORITHM_KEY_MISMATCH'], `${vector.name}: ECDSA algorithm with an ML-DSA key`);
  }
  // Another parameter set's signature under this certificate: refused on its length alone.
  const [first, second] = vectors.cases;
  if (first === undefined || second === undefined) throw new Error('too few cases');
  const swapped = received(first, { authorization: first.expected.authorization.replace(first.expected.signatureHex, second.expected.signatureHex) });
  const wrongSet = await handleCreateSession(swapped, { config: configFor(first.region), sessions: createSessionStore(), now: new Date(first.signingDate) });
  t.same(wrongSet.ok ? 'accepted' : [wrongSet.rejection.message, wrongSet.rejection.reason, wrongSet.rejection.detail],
    ['Invalid signature', 'SIGNATURE_PARAMETER_SET_MISMATCH', 'the signature is 3309 bytes but an ML-DSA-44 signature is 2420 bytes (signed with another parameter set?)'], 'an ML-DSA-65 signature on an ML-DSA-44 certificate');

  // The reverse: an ECDSA-signed request relabelled AWS4-X509-MLDSA.
  const own = readVectors<OwnVectors>('sigv4x509-own.json');
  const ecCase = own.cases.find((vector) => vector.key === 'p256');
  if (ecCase === undefined) throw new Error('no EC vector');
  const relabelled: ReceivedRequest = {
    method: 'POST',
    path: ecCase.request.path,
    rawQuery: ecCase.wireQuery,
    headers: { ...ecCase.expected.headers, authorization: (ecCase.expected.headers['authorization'] ?? '').replace('AWS4-X509-ECDSA-SHA256', 'AWS4-X509-MLDSA') },
    body: Buffer.from(ecCase.request.body),
  };
  const asMlDsa = await handleCreateSession(relabelled, { config: configFor(ecCase.region, [own.chainPem]), sessions: createSessionStore(), now: new Date(ecCase.signingDate) });
  t.same(asMlDsa.ok ? 'accepted' : [asMlDsa.rejection.status, asMlDsa.rejection.message, asMlDsa.rejection.reason, asMlDsa.rejection.detail],
    [403, 'Invalid signature', 'ALGORITHM_KEY_MISMATCH', 'AWS4-X509-MLDSA needs a ML-DSA key but the certificate holds EC'], 'MLDSA algorithm with an EC certificate');

  // Certificate signatures are checked, not just names: an anchor with the root's name but
  // another ML-DSA-87 key does not issue the vectors' intermediate.
  const impostor = await createCertificateAuthority({ subject: 'CN=ML-DSA Vector Root', keyAlgorithm: 'ML-DSA-87', now: new Date(first.signingDate) });
  for (const vector of vectors.cases) {
    const refused = await handleCreateSession(received(vector), { config: configFor(vector.region, [impostor.certificatePem]), sessions: createSessionStore(), now: new Date(vector.signingDate) });
    t.same(refused.ok ? 'accepted' : [refused.rejection.status, refused.rejection.message, refused.rejection.reason], [403, 'Untrusted Signing Certificate', 'CHAIN_UNTRUSTED'], `${vector.name}: same-name anchor with another key`);
  }
});

const nodeMlDsaKey = (() => {
  try {
    return new X509Certificate(vectors.keys['ml-dsa-65']?.certificatePem ?? '').publicKey;
  } catch {
    return undefined;
  }
})();

t.test('node:crypto cross-check', {
  skip: nodeMlDsaKey === undefined ? `Node.js ${process.version} (OpenSSL ${process.versions.openssl}) cannot load ML-DSA keys; CIRCL is the independent check here` : false,
}, async (t) => {
  for (const vector of vectors.cases.filter((c) => c.key === 'ml-dsa-65')) {
    t.ok(verify(null, Buffer.from(vector.expected.stringToSign, 'utf8'), createPublicKey(nodeMlDsaKey as KeyObject), Buffer.from(vector.expected.signatureHex, 'hex')), `${vector.name}: node:crypto verifies`);
  }
});

const circl = buildCirclMlDsa();

t.test('CIRCL (Go) re-derives every vector signature', {
  skip: circl === undefined ? 'no Go toolchain: the committed signatures came from CIRCL when the vectors were made' : false,
}, async (t) => {
  const jobs = [
    ...vectors.cases.map((vector) => ({ set: vectors.keys[vector.key]?.parameterSet ?? '', seed: vectors.keys[vector.key]?.seedHex ?? '', message: Buffer.from(vector.expected.stringToSign, 'utf8').toString('hex') })),
    ...vectors.signString.map((vector) => ({ set: vectors.keys[vector.key]?.parameterSet ?? '', seed: vectors.keys[vector.key]?.seedHex ?? '', message: vector.messageHex })),
  ];
  const result = await runCirclMlDsa(circl as string, { sign: jobs, verify: [] });
  const expected = [...vectors.cases.map((vector) => vector.expected.signatureHex), ...vectors.signString.map((vector) => vector.signatureHex)];
  t.same(result.sign.map((entry) => entry.signature), expected, 'CIRCL signs exactly the committed signatures');
});
