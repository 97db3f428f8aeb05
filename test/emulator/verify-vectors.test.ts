/**
 * The emulator's verifier against third-party known answers (the Envoy RSA vectors, made with
 * the awslabs Python library), and against the product signer (src/sigv4x509): two independent
 * implementations must agree, or one of them is wrong.
 */
import { sign } from 'node:crypto';
import t from 'tap';
import { handleCreateSession } from '../../src/emulator/create-session.js';
import { certificatesFromPem, resolveEmulatorConfig } from '../../src/emulator/config.js';
import { createSessionStore } from '../../src/emulator/sessions.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';
import { encodeQuery, signRequest } from '../../src/sigv4x509/index.js';
import { readVectors, type EnvoyVectors } from '../sigv4x509/vectors.js';
import type { ReceivedRequest } from '../../src/emulator/canonical-request.js';

const vectors = readVectors<EnvoyVectors>('envoy-rsa.json');
const vectorDate = new Date(`${vectors.date.slice(0, 4)}-${vectors.date.slice(4, 6)}-${vectors.date.slice(6, 8)}T${vectors.date.slice(9, 11)}:${vectors.date.slice(11, 13)}:${vectors.date.slice(13, 15)}Z`);

// The vectors' chain certificate serves as trust anchor; it is not what is under test here.
const vectorConfig = resolveEmulatorConfig({
  region: vectors.region,
  accountId: '123456789012',
  trustAnchors: [{ arn: `arn:aws:rolesanywhere:${vectors.region}:123456789012:trust-anchor/x`, certificates: [vectors.chainPem] }],
  profiles: [{ arn: `arn:aws:rolesanywhere:${vectors.region}:123456789012:profile/x`, roleArns: ['arn:aws:iam::123456789012:role/x'] }],
});

function vectorRequest(vector: EnvoyVectors['cases'][number], body = vector.body): ReceivedRequest {
  return { method: vector.method, path: vector.path, rawQuery: vector.query, headers: { ...vector.headers, authorization: vector.authorization }, body: Buffer.from(body) };
}

t.test('Envoy RSA vectors: the signature verifies (the request then fails later, on its dummy ARNs)', async (t) => {
  t.ok(certificatesFromPem(vectors.chainPem).length > 0);
  for (const vector of vectors.cases) {
    const outcome = await handleCreateSession(vectorRequest(vector), { config: vectorConfig, sessions: createSessionStore(), now: vectorDate });
    // Authentication passed; "arn:profile-arn" is then refused by parameter validation.
    t.equal(outcome.ok ? 'accepted' : outcome.rejection.reason, 'PARAMETER_INVALID', `${vector.name}: authenticated`);
    const tampered = await handleCreateSession(vectorRequest(vector, vector.body.replace('3600.0', '3601.0')), {
      config: vectorConfig,
      sessions: createSessionStore(),
      now: vectorDate,
    });
    // These vectors sign x-amz-content-sha256, so a changed body contradicts that header first.
    t.equal(tampered.ok ? 'accepted' : tampered.rejection.reason, 'PAYLOAD_HASH_MISMATCH', `${vector.name}: tampered body refused`);
    const otherType = vectorRequest(vector);
    const retyped = await handleCreateSession(
      { ...otherType, headers: { ...otherType.headers, 'content-type': 'application/x-amz-json-1.1' } },
      { config: vectorConfig, sessions: createSessionStore(), now: vectorDate },
    );
    t.equal(retyped.ok ? 'accepted' : retyped.rejection.reason, 'SIGNATURE_MISMATCH', `${vector.name}: changed signed header refused`);
  }
});

t.test('interop: the product signer (src/sigv4x509) against the emulator verifier, EC and RSA', async (t) => {
  const now = new Date('2031-03-04T05:06:07Z');
  const region = 'ap-southeast-2';
  const root = await createCertificateAuthority({ subject: 'CN=Interop Root', keyAlgorithm: 'EC-P256', now });
  const trustAnchorArn = `arn:aws:rolesanywhere:${region}:123456789012:trust-anchor/interop`;
  const profileArn = `arn:aws:rolesanywhere:${region}:123456789012:profile/interop`;
  const roleArn = 'arn:aws:iam::123456789012:role/interop';
  const config = resolveEmulatorConfig({
    region,
    accountId: '123456789012',
    trustAnchors: [{ arn: trustAnchorArn, certificates: [root.certificatePem] }],
    profiles: [{ arn: profileArn, roleArns: [roleArn], acceptRoleSessionName: true }],
  });
  for (const keyAlgorithm of ['EC-P256', 'EC-P384', 'RSA-2048'] as const) {
    const key = generateKeyPair(keyAlgorithm);
    const leaf = await issueLeafCertificate({ issuer: root, subject: `CN=interop-${keyAlgorithm}`, publicKey: key.publicKey, now });
    const query: Array<[string, string]> = [['profileArn', profileArn], ['roleArn', roleArn], ['trustAnchorArn', trustAnchorArn]];
    const body = '{"durationSeconds":3600,"roleSessionName":"interop"}';
    const signed = await signRequest(
      { method: 'POST', host: `rolesanywhere.${region}.amazonaws.com`, path: '/sessions', query, headers: { 'content-type': 'application/json' }, body },
      {
        signer: {
          keyType: keyAlgorithm.startsWith('RSA') ? 'RSA' : 'EC',
          sign: (message) => Promise.resolve(new Uint8Array(sign('sha256', message, key.privateKeyPem))),
        },
        certificate: leaf.certificateDer,
        region,
        signingDate: now,
      },
    );
    const received: ReceivedRequest = { method: 'POST', path: '/sessions', rawQuery: encodeQuery(query), headers: signed.headers, body: Buffer.from(body) };
    const outcome = await handleCreateSession(received, { config, sessions: createSessionStore(), now });
    t.equal(outcome.ok ? 'accepted' : `${outcome.rejection.reason}: ${outcome.rejection.detail}`, 'accepted', keyAlgorithm);
  }
});
