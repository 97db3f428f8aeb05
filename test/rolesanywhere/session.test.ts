import t from 'tap';
import { generateKeyPairSync, sign } from 'node:crypto';
import { prepareSession, requestCredentials } from '../../src/rolesanywhere/session.js';
import type { HttpRequest, HttpSend } from '../../src/rolesanywhere/http.js';
import { sourcePublicKeyOf } from '../../src/keys/public-key.js';
import type { KeySource } from '../../src/keys/types.js';
import type { SigningIdentity } from '../../src/keys/identity.js';
import { createCertificateAuthority, issueLeafCertificate } from '../../src/emulator/pki.js';
import { SignerError } from '../../src/errors.js';

const ca = await createCertificateAuthority({ subject: 'CN=Session Test CA', keyAlgorithm: 'EC-P256' });
const certified = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const leaf = await issueLeafCertificate({ issuer: ca, subject: 'CN=session-test', publicKey: certified.publicKey });

/** A key source that reports the certified public key but signs with `signingKey`. */
function source(signingKey: typeof certified.privateKey): KeySource {
  return {
    keyType: 'EC',
    publicKey: sourcePublicKeyOf(certified.publicKey),
    description: 'test key',
    sign: async (message) => sign('sha256', message, { key: signingKey, dsaEncoding: 'der' }),
    close: async () => {},
  };
}

function identityWith(key: KeySource): SigningIdentity {
  return { source: key, certificate: leaf.certificateDer, chain: [], close: () => key.close() };
}

const sent: HttpRequest[] = [];
const send: HttpSend = async (request) => {
  sent.push(request);
  return {
    status: 201,
    headers: {},
    body: JSON.stringify({ credentialSet: [{ credentials: { accessKeyId: 'ASIA0000000000000000', secretAccessKey: 's', sessionToken: 't', expiration: '2030-01-01T00:00:00Z' } }] }),
  };
};

const session = prepareSession(
  {
    trustAnchorArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a',
    profileArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p',
    roleArn: 'arn:aws:iam::123456789012:role/r',
    endpoint: 'http://127.0.0.1:8080',
  },
  send,
);
const deps = { clock: () => new Date('2026-11-21T12:00:00Z'), debug: () => {} };

t.test('a signature from the certified key is sent', async (t) => {
  sent.length = 0;
  const credentials = await requestCredentials(identityWith(source(certified.privateKey)), session, deps);
  t.equal(credentials.accessKeyId, 'ASIA0000000000000000');
  t.equal(sent.length, 1);
  t.match(sent[0]?.headers['authorization'] ?? '', /^AWS4-X509-ECDSA-SHA256 Credential=/);
});

t.test('a source that signs with another key than the certificate\'s is stopped before anything is sent', async (t) => {
  sent.length = 0;
  const error = await requestCredentials(identityWith(source(other.privateKey)), session, deps).catch((e: unknown) => e);
  t.ok(error instanceof SignerError);
  t.equal((error as SignerError).code, 'CERT_KEY_MISMATCH');
  t.match((error as SignerError).message, /^the private key test key does not match certificate CN=session-test \(serial \d+\): pass the certificate issued for this key$/);
  t.equal(sent.length, 0, 'no request left the machine');
});
