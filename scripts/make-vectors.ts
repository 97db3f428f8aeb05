/**
 * Generates the project's own SigV4-X509 known-answer vectors, once; the output is committed:
 *   test/vectors/sigv4x509-own.json   CreateSession requests signed with RSA, EC P-256, EC P-384
 *   test/vectors/sign-string.json     the reference helper's sign-string test string and signatures
 *
 * Run:  npx tsc -p tsconfig.json --outDir .build/vectors && node .build/vectors/scripts/make-vectors.js
 *
 * The expected values do NOT come from src/sigv4x509: keys and certificates are made by the
 * `openssl` command, the canonical request and string to sign by test/helpers/independent-verify.py
 * (its own canonicalization, written from the AWS documentation), the signatures by
 * `openssl dgst -sha256 -sign`, and every finished request is checked by the same verifier.
 * The tests then hold src/sigv4x509 to these values. Rerunning makes new keys, so every
 * expected value changes: commit both files together.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalizeIndependently, verifyIndependently } from '../test/helpers/independent-verify.js';
import { repoRoot } from '../test/helpers/paths.js';
import type { SigningRequest } from '../src/sigv4x509/types.js';

interface KeyPlan {
  readonly name: string;
  readonly keyType: 'RSA' | 'EC';
  readonly genpkey: readonly string[];
  /** Hex serial; the RSA one has the high bit set, so its DER INTEGER starts with 00. */
  readonly serial: string;
}

interface CasePlan {
  readonly name: string;
  readonly note: string;
  readonly key: string;
  readonly region: string;
  readonly signingDate: string;
  readonly withChain: boolean;
  readonly request: SigningRequest;
}

const KEYS: readonly KeyPlan[] = [
  { name: 'rsa', keyType: 'RSA', genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], serial: '8BADF00DDEADBEEF0123456789ABCDEF' },
  { name: 'p256', keyType: 'EC', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], serial: '7A' },
  { name: 'p384', keyType: 'EC', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], serial: '3FA1C2D4E5F60718293A4B5C6D7E8F90' },
];

const ACCOUNT = '123456789012';
function helperQuery(region: string): ReadonlyArray<readonly [string, string]> {
  // Deliberately not in sorted order: sorting is part of what the vectors check.
  return [
    ['trustAnchorArn', `arn:aws:rolesanywhere:${region}:${ACCOUNT}:trust-anchor/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0`],
    ['profileArn', `arn:aws:rolesanywhere:${region}:${ACCOUNT}:profile/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d`],
    ['roleArn', `arn:aws:iam::${ACCOUNT}:role/vector-test-role`],
  ];
}
const JSON_CONTENT = { 'content-type': 'application/json' } as const;

const CASES: readonly CasePlan[] = [
  {
    name: 'helper-form-rsa',
    note: 'the reference helper request: ARNs in the query, {"durationSeconds":3600}, default port',
    key: 'rsa',
    region: 'us-east-1',
    signingDate: '2025-01-02T03:04:05Z',
    withChain: false,
    request: { method: 'POST', host: 'rolesanywhere.us-east-1.amazonaws.com', path: '/sessions', query: helperQuery('us-east-1'), headers: JSON_CONTENT, body: '{"durationSeconds":3600}' },
  },
  {
    name: 'helper-form-rsa-session-name-port-chain',
    note: 'reference helper request with roleSessionName, Host with :port and an X-Amz-X509-Chain',
    key: 'rsa',
    region: 'eu-central-1',
    signingDate: '2024-02-29T23:59:59Z',
    withChain: true,
    request: { method: 'POST', host: '127.0.0.1:8443', path: '/sessions', query: helperQuery('eu-central-1'), headers: JSON_CONTENT, body: '{"durationSeconds":3600,"roleSessionName":"build-42"}' },
  },
  {
    name: 'helper-form-ec-p256',
    note: 'EC P-256, AWS4-X509-ECDSA-SHA256 (randomized: verify the signature, compare everything else)',
    key: 'p256',
    region: 'ap-southeast-2',
    signingDate: '2025-06-30T12:00:00Z',
    withChain: false,
    request: { method: 'POST', host: 'rolesanywhere.ap-southeast-2.amazonaws.com', path: '/sessions', query: helperQuery('ap-southeast-2'), headers: JSON_CONTENT, body: '{"durationSeconds":3600}' },
  },
  {
    name: 'helper-form-ec-p384-chain-port',
    note: 'EC P-384 still signs SHA-256 (AWS4-X509-ECDSA-SHA256); chain, :port and roleSessionName',
    key: 'p384',
    region: 'us-gov-west-1',
    signingDate: '2025-12-31T23:59:59Z',
    withChain: true,
    request: { method: 'POST', host: 'localhost:9443', path: '/sessions', query: helperQuery('us-gov-west-1'), headers: JSON_CONTENT, body: '{"durationSeconds":3600,"roleSessionName":"ec-session"}' },
  },
  {
    name: 'canonicalization-edges-rsa',
    note: 'query encoding (space, +, ~, *, !\'(), UTF-8, empty value, repeated name), header case, trimall, unsigned user-agent, encoded path segment, UTF-8 body',
    key: 'rsa',
    region: 'us-west-2',
    signingDate: '2025-03-04T05:06:07Z',
    withChain: false,
    request: {
      method: 'POST',
      host: 'rolesanywhere.us-west-2.amazonaws.com',
      path: '/api%20v1/sessions',
      query: [
        ['b', 'two words'],
        ['a', 'x+y'],
        ['a', 'tilde~star*'],
        ['c', ''],
        ['\u00e9', '\u00fc/:'],
        ['A', "!'()"],
      ],
      headers: { 'Content-Type': 'application/json', 'X-Custom-Spaces': '  a   b  c ', 'User-Agent': 'vector-test/1.0' },
      body: '{"durationSeconds":900,"note":"na\u00efve"}',
    },
  },
];

const SIGN_STRING_DIGESTS = ['SHA256', 'SHA384', 'SHA512'] as const;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'make-vectors-'));
  try {
    const openssl = (...args: string[]): Buffer => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
      '-subj', '/CN=SigV4-X509 Vector Test CA', '-days', '7300', '-sha384',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    writeFileSync(join(work, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
    const keys: Record<string, { keyType: string; privateKeyPem: string; certificatePem: string }> = {};
    for (const plan of KEYS) {
      openssl('genpkey', ...plan.genpkey, '-out', `${plan.name}.key`);
      openssl('req', '-new', '-key', `${plan.name}.key`, '-subj', `/CN=vector-${plan.name}.test`, '-out', `${plan.name}.csr`);
      openssl('x509', '-req', '-in', `${plan.name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${plan.serial}`,
        '-days', '7300', '-sha256', '-extfile', 'leaf.ext', '-out', `${plan.name}.pem`);
      keys[plan.name] = {
        keyType: plan.keyType,
        privateKeyPem: readFileSync(join(work, `${plan.name}.key`), 'utf8'),
        certificatePem: readFileSync(join(work, `${plan.name}.pem`), 'utf8'),
      };
    }
    const caPem = readFileSync(join(work, 'ca.pem'), 'utf8');
    const derBase64 = (pemFile: string): string => openssl('x509', '-in', pemFile, '-outform', 'DER').toString('base64');

    const cases = [];
    for (const plan of CASES) {
      const amzDate = plan.signingDate.replace(/[-:]/g, '');
      const headers: Record<string, string> = {
        ...plan.request.headers,
        host: plan.request.host,
        'x-amz-date': amzDate,
        'x-amz-x509': derBase64(`${plan.key}.pem`),
        ...(plan.withChain ? { 'x-amz-x509-chain': derBase64('ca.pem') } : {}),
      };
      // A valid but not canonical wire form (encodeURIComponent keeps !'()*): the verifier decodes it.
      const wireQuery = plan.request.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      const captured = { method: plan.request.method, path: plan.request.path, query: wireQuery, headers, body: plan.request.body };
      const canonical = await canonicalizeIndependently({ ...captured, region: plan.region });
      writeFileSync(join(work, 'sts'), canonical.stringToSign, 'utf8');
      const signature = openssl('dgst', '-sha256', '-sign', `${plan.key}.key`, 'sts').toString('hex');
      const authorization = `${canonical.algorithm} Credential=${canonical.serialDecimal}/${canonical.credentialScope}, SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`;
      const sent = { ...headers, authorization };
      const verdict = await verifyIndependently({ ...captured, headers: sent });
      if (!verdict.valid) throw new Error(`${plan.name}: the independent verifier rejects its own vector: ${verdict.reason}`);
      cases.push({
        name: plan.name,
        note: plan.note,
        key: plan.key,
        region: plan.region,
        signingDate: plan.signingDate,
        withChain: plan.withChain,
        request: plan.request,
        wireQuery,
        expected: {
          headers: Object.fromEntries(Object.entries(sent).map(([k, v]) => [k.toLowerCase(), v])),
          canonicalRequest: canonical.canonicalRequest,
          stringToSign: canonical.stringToSign,
          signedHeaders: canonical.signedHeaders,
          authorization,
          signatureIsDeterministic: keys[plan.key]?.keyType === 'RSA',
        },
      });
    }
    writeJson('sigv4x509-own.json', {
      about:
        'Own SigV4-X509 known-answer vectors (test keys only, never trust them). Made by scripts/make-vectors.ts: keys and ' +
        'certificates by openssl, canonical request and string to sign by test/helpers/independent-verify.py, signatures by ' +
        'openssl dgst -sha256 -sign, each request re-verified. RSA signatures are deterministic (PKCS#1 v1.5): compare them; ' +
        'ECDSA ones are randomized: verify them.',
      chainPem: caPem,
      keys,
      cases,
    });

    const signStringCases = [];
    for (const plan of KEYS) {
      openssl('pkey', '-in', `${plan.name}.key`, '-pubout', '-out', `${plan.name}.pub.pem`);
      // The key bytes the reference helper hashes: PKCS#1 RSAPublicKey, or the EC point 04||X||Y
      // (the BIT STRING that ends the SubjectPublicKeyInfo).
      const keyBytes =
        plan.keyType === 'RSA'
          ? openssl('rsa', '-pubin', '-in', `${plan.name}.pub.pem`, '-RSAPublicKey_out', '-outform', 'DER')
          : ecPointOf(openssl('pkey', '-pubin', '-in', `${plan.name}.pub.pem`, '-outform', 'DER'), plan.name === 'p256' ? 65 : 97);
      const message = Buffer.concat([
        Buffer.from('AWS Roles Anywhere Credential Helper Signing Test1', 'latin1'),
        createHash('sha256').update('IAM RA', 'latin1').update(keyBytes).digest(),
      ]);
      writeFileSync(join(work, 'test-string'), message);
      for (const digest of SIGN_STRING_DIGESTS) {
        const signature = openssl('dgst', `-${digest.toLowerCase()}`, '-sign', `${plan.name}.key`, 'test-string');
        signStringCases.push({
          key: plan.name,
          digest,
          messageHex: message.toString('hex'),
          signatureHex: signature.toString('hex'),
          signatureIsDeterministic: plan.keyType === 'RSA',
        });
      }
    }
    writeJson('sign-string.json', {
      about:
        'The reference helper sign-string test string ("AWS Roles Anywhere Credential Helper Signing Test" || "1" || ' +
        'SHA256("IAM RA" || public key bytes)) for the keys of sigv4x509-own.json, and openssl signatures over it per digest. ' +
        'Made by scripts/make-vectors.ts with openssl, independently of src/keys/sign-test-string.ts.',
      keysFrom: 'sigv4x509-own.json',
      cases: signStringCases,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function ecPointOf(spkiDer: Buffer, pointLength: number): Buffer {
  const point = spkiDer.subarray(spkiDer.length - pointLength);
  if (point[0] !== 0x04 || spkiDer[spkiDer.length - pointLength - 1] !== 0x00) {
    throw new Error('the SubjectPublicKeyInfo does not end in an uncompressed EC point');
  }
  return point;
}

function writeJson(name: string, value: unknown): void {
  const path = join(repoRoot, 'test', 'vectors', name);
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
  console.log(`wrote ${path}`);
}

await main();
