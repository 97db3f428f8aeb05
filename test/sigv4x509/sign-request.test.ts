import { verify, X509Certificate } from 'node:crypto';
import t from 'tap';
import { signRequest } from '../../src/sigv4x509/sign-request.js';
import type { RequestSigner, SigningRequest } from '../../src/sigv4x509/types.js';
import { derOf, readVectors, softwareKey, type EnvoyVectors, type OwnVectors } from './vectors.js';

const envoy = readVectors<EnvoyVectors>('envoy-rsa.json');
const own = readVectors<OwnVectors>('sigv4x509-own.json');

function dateFromAmz(amzDate: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (m === null) throw new Error(`bad date ${amzDate}`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

t.test('Envoy RSA vectors reproduce byte for byte', async (t) => {
  const signer = softwareKey(envoy.privateKeyPem, 'RSA');
  for (const vector of envoy.cases) {
    const { host, 'content-type': contentType, 'x-amz-content-sha256': contentSha256 } = vector.headers;
    const request: SigningRequest = {
      method: vector.method,
      host: host ?? '',
      path: vector.path,
      query: [],
      headers: { 'content-type': contentType ?? '', 'x-amz-content-sha256': contentSha256 ?? '' },
      body: vector.body,
    };
    const signed = await signRequest(request, {
      signer,
      certificate: derOf(envoy.certificatePem),
      chain: vector.headers['x-amz-x509-chain'] === undefined ? [] : [derOf(envoy.chainPem)],
      region: envoy.region,
      signingDate: dateFromAmz(envoy.date),
    });
    t.equal(signed.canonicalRequest, vector.canonicalRequest, `${vector.name}: canonical request`);
    t.equal(signed.stringToSign, vector.stringToSign, `${vector.name}: string to sign`);
    t.equal(signed.headers['authorization'], vector.authorization, `${vector.name}: authorization`);
    t.strictSame(signed.headers, { ...vector.headers, authorization: vector.authorization }, `${vector.name}: every header sent`);
  }
});

t.test('own vectors (scripts/make-vectors.ts) reproduce; ECDSA signatures verify', async (t) => {
  t.equal(own.cases.length, 5);
  for (const vector of own.cases) {
    const key = own.keys[vector.key];
    if (key === undefined) throw new Error(`vector ${vector.name} names unknown key ${vector.key}`);
    const signer = softwareKey(key.privateKeyPem, key.keyType);
    const signed = await signRequest(vector.request, {
      signer,
      certificate: derOf(key.certificatePem),
      chain: vector.withChain ? [derOf(own.chainPem)] : undefined,
      region: vector.region,
      signingDate: new Date(vector.signingDate),
    });
    const { expected } = vector;
    t.equal(signed.canonicalRequest, expected.canonicalRequest, `${vector.name}: canonical request`);
    t.equal(signed.stringToSign, expected.stringToSign, `${vector.name}: string to sign`);
    t.equal(signed.signedHeaders, expected.signedHeaders, `${vector.name}: signed headers`);
    if (expected.signatureIsDeterministic) {
      t.strictSame(signed.headers, expected.headers, `${vector.name}: every header, signature included`);
      continue;
    }
    const { authorization: ours = '', ...oursRest } = signed.headers;
    const { authorization: theirs = '', ...theirsRest } = expected.headers;
    t.strictSame(oursRest, theirsRest, `${vector.name}: every header but authorization`);
    const [oursPrefix = '', oursSignature = ''] = ours.split('Signature=');
    const [theirsPrefix = '', theirsSignature = ''] = theirs.split('Signature=');
    t.equal(oursPrefix, theirsPrefix, `${vector.name}: authorization up to the signature`);
    const publicKey = new X509Certificate(key.certificatePem).publicKey;
    const message = Buffer.from(expected.stringToSign, 'utf8');
    for (const [who, hex] of [['ours', oursSignature], ['vector', theirsSignature]] as const) {
      t.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, Buffer.from(hex, 'hex')), `${vector.name}: ${who} ECDSA signature verifies`);
    }
  }
});

const leaf = own.keys['rsa'];
if (leaf === undefined) throw new Error('sigv4x509-own.json has no rsa key');
const leafDer = derOf(leaf.certificatePem);
const caDer = derOf(own.chainPem);
const baseRequest: SigningRequest = {
  method: 'POST',
  host: 'rolesanywhere.us-east-1.amazonaws.com',
  path: '/sessions',
  query: [['roleArn', 'arn:aws:iam::123456789012:role/r']],
  headers: { 'content-type': 'application/json', 'user-agent': 'roles-anywhere-signer/0.1.0' },
  body: '{"durationSeconds":3600}',
};
const signingDate = new Date('2025-01-02T03:04:05Z');

t.test('the signer gets the UTF-8 string to sign, and the signature lands in Authorization', async (t) => {
  const seen: Uint8Array[] = [];
  const signer: RequestSigner = {
    keyType: 'ML-DSA',
    sign: async (message) => {
      seen.push(message);
      return Uint8Array.of(0x00, 0xab, 0xff);
    },
  };
  const signed = await signRequest(baseRequest, { signer, certificate: leafDer, region: 'us-east-1', signingDate });
  t.equal(seen.length, 1);
  t.equal(Buffer.from(seen[0] ?? []).toString('utf8'), signed.stringToSign);
  t.match(signed.stringToSign, /^AWS4-X509-MLDSA\n20250102T030405Z\n20250102\/us-east-1\/rolesanywhere\/aws4_request\n[0-9a-f]{64}$/);
  t.equal(
    signed.headers['authorization'],
    'AWS4-X509-MLDSA Credential=185665827647816538605320593782818459119/20250102/us-east-1/rolesanywhere/aws4_request, ' +
      'SignedHeaders=content-type;host;x-amz-date;x-amz-x509, Signature=00abff',
  );
});

t.test('user-agent is sent but not signed; no chain header without a chain; custom service', async (t) => {
  const signer = softwareKey(leaf.privateKeyPem, 'RSA');
  const signed = await signRequest(baseRequest, { signer, certificate: leafDer, chain: [], region: 'eu-west-1', service: 'sts', signingDate });
  t.equal(signed.headers['user-agent'], 'roles-anywhere-signer/0.1.0');
  t.equal(signed.signedHeaders, 'content-type;host;x-amz-date;x-amz-x509');
  t.notOk('x-amz-x509-chain' in signed.headers);
  t.match(signed.headers['authorization'], / Credential=\d+\/20250102\/eu-west-1\/sts\/aws4_request, /);
  t.equal(signed.headers['x-amz-x509'], Buffer.from(leafDer).toString('base64'));
});

t.test('a chain of five is sent comma-separated, in order', async (t) => {
  const signer = softwareKey(leaf.privateKeyPem, 'RSA');
  const chain = [caDer, leafDer, caDer, leafDer, caDer];
  const signed = await signRequest(baseRequest, { signer, certificate: leafDer, chain, region: 'us-east-1', signingDate });
  t.equal(signed.headers['x-amz-x509-chain'], chain.map((der) => Buffer.from(der).toString('base64')).join(','));
  t.equal(signed.signedHeaders, 'content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain');
});

t.test('refusals, each before the key is asked to sign', async (t) => {
  const signer = softwareKey(leaf.privateKeyPem, 'RSA');
  const options = { signer, certificate: leafDer, region: 'us-east-1', signingDate };
  const cases: ReadonlyArray<readonly [string, Promise<unknown>, string, string]> = [
    [
      'six chain certificates',
      signRequest(baseRequest, { ...options, chain: [caDer, caDer, caDer, caDer, caDer, caDer] }),
      'CHAIN_INVALID',
      'certificate chain has 6 certificates but X-Amz-X509-Chain takes at most 5: pass only the intermediates between the leaf and the trust anchor',
    ],
    [
      'a header the signer owns',
      signRequest({ ...baseRequest, headers: { 'X-Amz-Date': '20250102T030405Z' } }, options),
      'USAGE',
      'request header "x-amz-date" is set by the signer: leave it out of the request headers',
    ],
    [
      'the same header twice',
      signRequest({ ...baseRequest, headers: { 'Content-Type': 'a', 'content-type': 'b' } }, options),
      'USAGE',
      'request header "content-type" is given twice (names are case-insensitive): pass it once',
    ],
    [
      'a header name that is no token',
      signRequest({ ...baseRequest, headers: { 'bad name': 'x' } }, options),
      'USAGE',
      'request header name "bad name" is not an HTTP token: use letters, digits and -',
    ],
    [
      'a line break in a value',
      signRequest({ ...baseRequest, headers: { 'x-note': 'a\r\nx-injected: 1' } }, options),
      'USAGE',
      'request header "x-note" contains a line break or NUL: remove it',
    ],
    ['an empty host', signRequest({ ...baseRequest, host: '' }, options), 'USAGE', 'request host "" is not a host name with an optional :port'],
    [
      'a host with a path',
      signRequest({ ...baseRequest, host: 'example.com/x' }, options),
      'USAGE',
      'request host "example.com/x" is not a host name with an optional :port',
    ],
    [
      'a region that cannot be in a scope',
      signRequest(baseRequest, { ...options, region: 'us-east-1/x' }),
      'USAGE',
      'region "us-east-1/x" is not valid in a credential scope: use lower-case letters, digits and -',
    ],
    [
      'a relative path',
      signRequest({ ...baseRequest, path: 'sessions' }, options),
      'USAGE',
      'request path "sessions" must start with "/": pass the path as sent on the wire',
    ],
    [
      'bytes that are no certificate',
      signRequest(baseRequest, { ...options, certificate: Uint8Array.of(1, 2, 3) }),
      'CERT_INVALID',
      "certificate is not a DER X.509 certificate (it is not one DER SEQUENCE): pass the leaf certificate's DER bytes",
    ],
    [
      'an invalid date',
      signRequest(baseRequest, { ...options, signingDate: new Date(Number.NaN) }),
      'USAGE',
      'signing date is not a valid date: pass a Date from the clock',
    ],
  ];
  for (const [what, promise, code, message] of cases) {
    await t.rejects(promise, { name: 'SignerError', code, message }, what);
  }
  t.equal(signer.signatures, 0, 'the key never signed');
});
