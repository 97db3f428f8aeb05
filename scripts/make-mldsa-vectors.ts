/**
 * Generates the ML-DSA SigV4-X509 known-answer vectors, once; the output is committed:
 *   test/vectors/sigv4x509-mldsa.json
 *
 * Run:  npx tsc -p tsconfig.json && node dist/scripts/make-mldsa-vectors.js   (needs Go: CIRCL)
 *
 * The expected values do NOT come from the signer (src/keys, src/sigv4x509): the canonical
 * request and string to sign come from test/helpers/independent-verify.py, and every signature
 * (requests and sign-string) from Cloudflare CIRCL's deterministic ML-DSA in Go
 * (scripts/fixtures/circl-mldsa), which also derives the public keys from the fixed seeds and
 * verifies every certificate signature of the test PKI. The test PKI (ML-DSA-87 root, ML-DSA-65
 * intermediate) is made by the emulator's PKI builder with fixed serials and dates.
 * The tests then hold the signer (@noble/post-quantum) to CIRCL's bytes.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority, generateMlDsaKeyPair, issueLeafCertificate, type CertificateAuthority } from '../src/emulator/pki.js';
import type { MlDsaName } from '../src/emulator/mldsa.js';
import type { SigningRequest } from '../src/sigv4x509/types.js';
import { buildCirclMlDsa, runCirclMlDsa } from '../test/helpers/circl-mldsa.js';
import { canonicalizeIndependently } from '../test/helpers/independent-verify.js';
import { repoRoot } from '../test/helpers/paths.js';

const ACCOUNT = '123456789012';
const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const NOT_AFTER = new Date('2046-01-01T00:00:00Z');
const SIGN_STRING_MESSAGE = Buffer.from('AWS Roles Anywhere Credential Helper Signing Test1', 'latin1');

interface KeyPlan {
  readonly name: string;
  readonly parameterSet: MlDsaName;
  readonly serial: string;
  /** Issued by the intermediate (so requests carry X-Amz-X509-Chain) or by the root directly. */
  readonly issuer: 'root' | 'intermediate';
}

const KEYS: readonly KeyPlan[] = [
  { name: 'ml-dsa-44', parameterSet: 'ML-DSA-44', serial: '44A1', issuer: 'root' },
  { name: 'ml-dsa-65', parameterSet: 'ML-DSA-65', serial: '8065DEADBEEF0065', issuer: 'intermediate' },
  { name: 'ml-dsa-87', parameterSet: 'ML-DSA-87', serial: '0187', issuer: 'intermediate' },
];

function helperQuery(region: string): ReadonlyArray<readonly [string, string]> {
  return [
    ['trustAnchorArn', `arn:aws:rolesanywhere:${region}:${ACCOUNT}:trust-anchor/4d3c2b1a-0f9e-4d8c-8b7a-6a5b4c3d2e1f`],
    ['profileArn', `arn:aws:rolesanywhere:${region}:${ACCOUNT}:profile/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`],
    ['roleArn', `arn:aws:iam::${ACCOUNT}:role/mldsa-vector-role`],
  ];
}
const JSON_CONTENT = { 'content-type': 'application/json' } as const;

const CASES: ReadonlyArray<{ name: string; note: string; key: string; region: string; signingDate: string; request: SigningRequest }> = [
  {
    name: 'helper-form-ml-dsa-44',
    note: 'the reference helper request, ML-DSA-44 leaf issued by the ML-DSA-87 anchor itself: no chain',
    key: 'ml-dsa-44', region: 'us-east-1', signingDate: '2026-03-04T05:06:07Z',
    request: { method: 'POST', host: 'rolesanywhere.us-east-1.amazonaws.com', path: '/sessions', query: helperQuery('us-east-1'), headers: JSON_CONTENT, body: '{"durationSeconds":3600}' },
  },
  {
    name: 'helper-form-ml-dsa-65-chain-port-session-name',
    note: 'ML-DSA-65 leaf under an ML-DSA-65 intermediate (X-Amz-X509-Chain), Host with :port, roleSessionName',
    key: 'ml-dsa-65', region: 'eu-west-1', signingDate: '2026-07-31T23:59:59Z',
    request: { method: 'POST', host: '127.0.0.1:9443', path: '/sessions', query: helperQuery('eu-west-1'), headers: JSON_CONTENT, body: '{"durationSeconds":3600,"roleSessionName":"pq-42"}' },
  },
  {
    name: 'canonicalization-edges-ml-dsa-87',
    note: 'ML-DSA-87 with the query and header edge cases of the RSA vectors: the string to sign is what ML-DSA signs, as is',
    key: 'ml-dsa-87', region: 'ap-northeast-1', signingDate: '2026-12-01T00:00:00Z',
    request: {
      method: 'POST', host: 'rolesanywhere.ap-northeast-1.amazonaws.com', path: '/sessions',
      query: [...helperQuery('ap-northeast-1'), ['note', 'two words+tilde~'], ['\u00e9', '\u00fc/:']],
      headers: { 'Content-Type': 'application/json', 'X-Custom-Spaces': '  a   b  c ', 'User-Agent': 'mldsa-vector/1.0' },
      body: '{"durationSeconds":900}',
    },
  },
];

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

async function main(): Promise<void> {
  const circl = buildCirclMlDsa();
  if (circl === undefined) throw new Error('make-mldsa-vectors needs a Go toolchain (CIRCL is the independent signer)');

  const root = await createCertificateAuthority({ subject: 'CN=ML-DSA Vector Root', keyAlgorithm: 'ML-DSA-87', serialNumber: '7001', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  const intermediate = await createCertificateAuthority({ subject: 'CN=ML-DSA Vector Issuing CA', keyAlgorithm: 'ML-DSA-65', issuer: root, pathLength: 0, serialNumber: '7002', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  const issuers: Record<KeyPlan['issuer'], CertificateAuthority> = { root, intermediate };

  const keys: Record<string, { parameterSet: MlDsaName; seedHex: string; privateKeyPem: string; certificatePem: string; issuer: string }> = {};
  const certificateDers: Record<string, Uint8Array> = {};
  for (const plan of KEYS) {
    // Fixed, documented seeds: anyone can rebuild the keys from them.
    const seed = createHash('sha256').update(`roles-anywhere-signer ${plan.parameterSet} vector seed`).digest();
    const pair = await generateMlDsaKeyPair(plan.parameterSet, seed);
    const leaf = await issueLeafCertificate({ issuer: issuers[plan.issuer], subject: `CN=vector-${plan.name}.test`, publicKey: pair.publicKey, serialNumber: plan.serial, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    keys[plan.name] = { parameterSet: plan.parameterSet, seedHex: hex(seed), privateKeyPem: pair.privateKeyPem, certificatePem: leaf.certificatePem, issuer: plan.issuer };
    certificateDers[plan.name] = leaf.certificateDer;
  }

  const cases = [];
  const signJobs = [];
  const canonicals = [];
  for (const plan of CASES) {
    const key = keys[plan.key];
    const leafDer = certificateDers[plan.key];
    if (key === undefined || leafDer === undefined) throw new Error(`no key ${plan.key}`);
    const withChain = key.issuer === 'intermediate';
    const headers: Record<string, string> = {
      ...plan.request.headers,
      host: plan.request.host,
      'x-amz-date': plan.signingDate.replace(/[-:]/g, ''),
      'x-amz-x509': base64(leafDer),
      ...(withChain ? { 'x-amz-x509-chain': base64(intermediate.certificateDer) } : {}),
    };
    const wireQuery = plan.request.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const canonical = await canonicalizeIndependently({ method: plan.request.method, path: plan.request.path, query: wireQuery, headers, body: plan.request.body, region: plan.region });
    if (canonical.algorithm !== 'AWS4-X509-MLDSA') throw new Error(`${plan.name}: the independent canonicalizer chose ${canonical.algorithm}`);
    canonicals.push({ plan, headers, wireQuery, canonical, withChain });
    signJobs.push({ set: key.parameterSet, seed: key.seedHex, message: hex(Buffer.from(canonical.stringToSign, 'utf8')) });
  }
  for (const plan of KEYS) {
    const key = keys[plan.name];
    if (key !== undefined) signJobs.push({ set: key.parameterSet, seed: key.seedHex, message: hex(SIGN_STRING_MESSAGE) });
  }

  // Every certificate signature of the PKI, verified by CIRCL: the PKI builder signs with noble.
  const certificatePairs: Array<[string, Uint8Array, Uint8Array, MlDsaName]> = [
    ['root (self-signed)', root.certificateDer, root.certificateDer, 'ML-DSA-87'],
    ['intermediate', intermediate.certificateDer, root.certificateDer, 'ML-DSA-87'],
    ...KEYS.map((plan): [string, Uint8Array, Uint8Array, MlDsaName] => [plan.name, certificateDers[plan.name] as Uint8Array, issuers[plan.issuer].certificateDer, plan.issuer === 'root' ? 'ML-DSA-87' : 'ML-DSA-65']),
  ];
  const verifyJobs = certificatePairs.map(([, child, issuer, set]) => ({ set, ...tbsAndSignature(child), publicKey: hex(rawPublicKey(issuer)) }));

  const result = await runCirclMlDsa(circl, { sign: signJobs, verify: verifyJobs });
  result.verify.forEach((ok, index) => {
    if (!ok) throw new Error(`CIRCL rejects the certificate signature of ${certificatePairs[index]?.[0] ?? index}`);
  });
  KEYS.forEach((plan, index) => {
    const derived = result.sign[CASES.length + index]?.publicKey;
    const certified = hex(rawPublicKey(certificateDers[plan.name] as Uint8Array));
    if (derived !== certified) throw new Error(`${plan.name}: CIRCL derives another public key from the seed than the certificate holds`);
  });

  for (const [index, { plan, headers, wireQuery, canonical, withChain }] of canonicals.entries()) {
    const signatureHex = result.sign[index]?.signature ?? '';
    const authorization = `${canonical.algorithm} Credential=${canonical.serialDecimal}/${canonical.credentialScope}, SignedHeaders=${canonical.signedHeaders}, Signature=${signatureHex}`;
    cases.push({
      name: plan.name, note: plan.note, key: plan.key, region: plan.region, signingDate: plan.signingDate, withChain, request: plan.request, wireQuery,
      expected: {
        headers: Object.fromEntries(Object.entries({ ...headers, authorization }).map(([k, v]) => [k.toLowerCase(), v])),
        canonicalRequest: canonical.canonicalRequest,
        stringToSign: canonical.stringToSign,
        signedHeaders: canonical.signedHeaders,
        authorization,
        signatureHex,
      },
    });
  }
  const signString = KEYS.map((plan, index) => ({ key: plan.name, messageHex: hex(SIGN_STRING_MESSAGE), signatureHex: result.sign[CASES.length + index]?.signature ?? '' }));

  const path = join(repoRoot, 'test', 'vectors', 'sigv4x509-mldsa.json');
  writeFileSync(path, `${JSON.stringify({
    about:
      'ML-DSA SigV4-X509 known-answer vectors (AWS4-X509-MLDSA; test keys from the published seeds, never trust them). Made by ' +
      'scripts/make-mldsa-vectors.ts: canonical request and string to sign by test/helpers/independent-verify.py; every signature ' +
      'by Cloudflare CIRCL v1.6.5 (Go), deterministic pure ML-DSA with an empty context, which also derived the public keys from ' +
      'the seeds and verified every certificate signature. The signer must reproduce each signature byte for byte.',
    anchorPem: root.certificatePem,
    intermediatePem: intermediate.certificatePem,
    keys,
    cases,
    signString,
  }, null, 1)}\n`);
  console.log(`wrote ${path}`);
}

/** TBSCertificate DER and signature bytes of a certificate: what its issuer signed. */
function tbsAndSignature(der: Uint8Array): { message: string; signature: string } {
  const [tbs, , signature] = children(der);
  if (tbs === undefined || signature === undefined) throw new Error('not a certificate');
  return { message: hex(tbs), signature: hex(content(signature).subarray(1)) };
}

/** The raw FIPS 204 public key: the SPKI BIT STRING of the certificate, without its unused-bits octet. */
function rawPublicKey(certificateDer: Uint8Array): Uint8Array {
  const [tbs] = children(certificateDer);
  if (tbs === undefined) throw new Error('not a certificate');
  const fields = children(tbs);
  const spki = fields[fields[0]?.[0] === 0xa0 ? 6 : 5];
  if (spki === undefined) throw new Error('no SPKI');
  const [, bits] = children(spki);
  if (bits === undefined) throw new Error('no key bits');
  return content(bits).subarray(1);
}

/** A deliberately separate, tiny DER walker: the vectors do not lean on src/asn1. */
function children(der: Uint8Array): Uint8Array[] {
  const body = content(der);
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < body.length;) {
    const length = elementLength(body, offset);
    out.push(body.subarray(offset, offset + length));
    offset += length;
  }
  return out;
}

function header(der: Uint8Array, offset: number): { headerLength: number; length: number } {
  const first = der[offset + 1] ?? 0;
  if (first < 0x80) return { headerLength: 2, length: first };
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[offset + 2 + i] ?? 0);
  return { headerLength: 2 + count, length };
}

function elementLength(der: Uint8Array, offset: number): number {
  const { headerLength, length } = header(der, offset);
  return headerLength + length;
}

function content(element: Uint8Array): Uint8Array {
  const { headerLength, length } = header(element, 0);
  return element.subarray(headerLength, headerLength + length);
}

await main();
