import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { encodePem } from '../../src/certs/pem.js';
import { buildCertificateRequest } from '../../src/enroll/csr.js';
import { encodeSubject, parseSubject } from '../../src/enroll/subject.js';

const execFileAsync = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'ras-csr-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** OpenSSL, an independent implementation, reads and verifies the request. */
async function opensslVerify(der: Uint8Array, name: string): Promise<string> {
  const path = join(dir, `${name}.pem`);
  await writeFile(path, encodePem('CERTIFICATE REQUEST', der));
  const { stdout, stderr } = await execFileAsync('openssl', ['req', '-in', path, '-verify', '-noout', '-subject', '-text']);
  return `${stderr}${stdout}`;
}

const subject = encodeSubject(parseSubject('CN=build-01,O=Example'));
const keys: [string, KeyObject, KeyObject, 'EC' | 'RSA', RegExp][] = [];
for (const [name, pair, keyType, algorithm] of [
  ['EC P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'EC', /ecdsa-with-SHA256/],
  ['EC P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'EC', /ecdsa-with-SHA256/],
  ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RSA', /sha256WithRSAEncryption/],
] as const) {
  keys.push([name, pair.privateKey, pair.publicKey, keyType, algorithm]);
}

t.test('the request is signed with SHA-256 by the given signer and OpenSSL verifies it', async (t) => {
  for (const [name, privateKey, publicKey, keyType, algorithm] of keys) {
    let signed = 0;
    const der = await buildCertificateRequest({
      subject,
      publicKey,
      keyType,
      sign: async (message) => {
        signed++;
        return new Uint8Array(sign('sha256', message, privateKey));
      },
    });
    t.equal(signed, 1, `${name}: one signature`);
    const text = await opensslVerify(der, name.replace(' ', '-'));
    t.match(text, /verify OK/, `${name}: verify OK`);
    t.match(text, /subject=O = Example, CN = build-01/, `${name}: subject`);
    t.match(text, algorithm, `${name}: signature algorithm`);
  }
});

t.test('a signature by another key is caught before the request leaves', async (t) => {
  const [, , publicKey] = keys[0] as (typeof keys)[number];
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  await t.rejects(
    buildCertificateRequest({ subject, publicKey, keyType: 'EC', sign: async (message) => new Uint8Array(sign('sha256', message, other)) }),
    {
      name: 'SignerError',
      code: 'CERT_KEY_MISMATCH',
      message: 'the certificate request signed by the new key does not verify with its public key, so it was not written: the device signed with another key or mechanism; rerun with --debug',
    },
  );
});

t.test('ML-DSA requests are refused plainly', async (t) => {
  const [, , publicKey] = keys[0] as (typeof keys)[number];
  await t.rejects(buildCertificateRequest({ subject, publicKey, keyType: 'ML-DSA', sign: async () => new Uint8Array(0) }), {
    code: 'KEY_TYPE_UNSUPPORTED',
    message: 'certificate requests for ML-DSA keys are not supported yet: enroll an EC or RSA key',
  });
});
