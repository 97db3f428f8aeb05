import t from 'tap';
import { encodeQuery } from '../../src/sigv4x509/encode-query.js';
import { signRequest } from '../../src/sigv4x509/sign-request.js';
import type { SigningRequest } from '../../src/sigv4x509/types.js';
import { capturedFrom, verifyIndependently, type CapturedRequest } from '../helpers/independent-verify.js';
import { derOf, readVectors, softwareKey, type EnvoyVectors, type OwnVectors } from './vectors.js';

const own = readVectors<OwnVectors>('sigv4x509-own.json');
const envoy = readVectors<EnvoyVectors>('envoy-rsa.json');
const BAD_SIGNATURE = 'invalid: signature does not verify with the certificate public key';

const request: SigningRequest = {
  method: 'POST',
  host: '127.0.0.1:8443',
  path: '/sessions',
  query: [
    ['trustAnchorArn', 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/ta'],
    ['profileArn', 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p'],
    ['roleArn', 'arn:aws:iam::123456789012:role/r'],
  ],
  headers: { 'content-type': 'application/json', 'user-agent': 'roles-anywhere-signer/0.1.0' },
  body: '{"durationSeconds":3600,"roleSessionName":"s1"}',
};

async function signedCapture(keyName: string, withChain: boolean): Promise<CapturedRequest> {
  const key = own.keys[keyName];
  if (key === undefined) throw new Error(`no key ${keyName}`);
  const signed = await signRequest(request, {
    signer: softwareKey(key.privateKeyPem, key.keyType),
    certificate: derOf(key.certificatePem),
    chain: withChain ? [derOf(own.chainPem)] : [],
    region: 'us-east-1',
    signingDate: new Date('2025-01-02T03:04:05Z'),
  });
  return capturedFrom(request, signed);
}

t.test('the Envoy third-party vectors verify (the verifier agrees with someone else)', async (t) => {
  for (const vector of envoy.cases) {
    const verdict = await verifyIndependently({
      method: vector.method,
      path: vector.path,
      query: vector.query,
      headers: { ...vector.headers, authorization: vector.authorization },
      body: vector.body,
    });
    t.strictSame(verdict, { valid: true, reason: 'valid' }, vector.name);
  }
});

for (const [keyName, withChain] of [['rsa', true], ['p256', false], ['p384', true]] as const) {
  t.test(`signRequest output verifies; tampering fails (${keyName})`, async (t) => {
    const good = await signedCapture(keyName, withChain);
    t.strictSame(await verifyIndependently(good), { valid: true, reason: 'valid' }, 'untouched');
    t.strictSame(await verifyIndependently({ ...good, headers: { ...good.headers, 'x-forwarded-for': '10.0.0.1' } }), { valid: true, reason: 'valid' }, 'an unsigned extra header is ignored, as the service does');
    t.strictSame(await verifyIndependently({ ...good, now: '20250102T030805Z' }), { valid: true, reason: 'valid' }, '4 minutes of skew');

    const tampered: ReadonlyArray<readonly [string, CapturedRequest, string]> = [
      ['header value', { ...good, headers: { ...good.headers, 'content-type': 'text/plain' } }, BAD_SIGNATURE],
      ['body', { ...good, body: good.body.replace('3600', '43200') }, BAD_SIGNATURE],
      ['query', { ...good, query: encodeQuery([...request.query.slice(0, 2), ['roleArn', 'arn:aws:iam::123456789012:role/admin']]) }, BAD_SIGNATURE],
      ['path', { ...good, path: '/sessions/' }, BAD_SIGNATURE],
      ['method', { ...good, method: 'PUT' }, BAD_SIGNATURE],
      ['date, same day', { ...good, headers: { ...good.headers, 'x-amz-date': '20250102T030406Z' } }, BAD_SIGNATURE],
      [
        'date, another day',
        { ...good, headers: { ...good.headers, 'x-amz-date': '20250103T030405Z' } },
        'invalid: credential scope date 20250102 is not the date of X-Amz-Date 20250103T030405Z',
      ],
      ['clock skew', { ...good, now: '20250102T031006Z' }, 'invalid: X-Amz-Date 20250102T030405Z is more than 300 seconds from now'],
      [
        'host header removed',
        { ...good, headers: Object.fromEntries(Object.entries(good.headers).filter(([name]) => name !== 'host')) },
        'invalid: signed header host is not in the request',
      ],
      ['authorization removed', { ...good, headers: Object.fromEntries(Object.entries(good.headers).filter(([name]) => name !== 'authorization')) }, 'invalid: no Authorization header'],
    ];
    const verdicts = await Promise.all(tampered.map(([, capture]) => verifyIndependently(capture)));
    tampered.forEach(([what, , reason], i) => t.strictSame(verdicts[i], { valid: false, reason }, what));
  });
}

t.test('certificate swaps and chain changes are caught', async (t) => {
  const rsa = await signedCapture('rsa', true);
  const p256 = await signedCapture('p256', false);
  t.strictSame(
    await verifyIndependently({ ...rsa, headers: { ...rsa.headers, 'x-amz-x509': p256.headers['x-amz-x509'] ?? '' } }),
    { valid: false, reason: 'invalid: algorithm AWS4-X509-RSA-SHA256 does not fit the certificate key (id-ecPublicKey)' },
  );
  const chainless = Object.fromEntries(Object.entries(rsa.headers).filter(([name]) => name !== 'x-amz-x509-chain'));
  t.strictSame(await verifyIndependently({ ...rsa, headers: chainless }), { valid: false, reason: 'invalid: signed header x-amz-x509-chain is not in the request' });
  const chain = rsa.headers['x-amz-x509-chain'] ?? '';
  t.strictSame(
    await verifyIndependently({ ...rsa, headers: { ...rsa.headers, 'x-amz-x509-chain': `${chain},${chain}` } }),
    { valid: false, reason: BAD_SIGNATURE },
    'an extra chain certificate changes a signed header',
  );
  const wrongSerial = (rsa.headers['authorization'] ?? '').replace(/Credential=\d+/, 'Credential=122');
  t.strictSame(
    await verifyIndependently({ ...rsa, headers: { ...rsa.headers, authorization: wrongSerial } }),
    { valid: false, reason: 'invalid: Credential serial 122 is not the certificate serial 185665827647816538605320593782818459119' },
  );
});

t.test('unusable input is an error, not a verdict', async (t) => {
  await t.rejects(verifyIndependently({ method: 'POST' } as unknown as CapturedRequest), {
    message: 'independent-verify.py exited 2: unusable input: input field "path" is missing or not a str',
  });
});
