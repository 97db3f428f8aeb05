import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import t from 'tap';
import { signingTestMessage, signTestString } from '../../src/keys/sign-test-string.js';
import type { SignDigest } from '../../src/keys/types.js';
import { readVectors, softwareKey, type OwnVectors, type SignStringVectors } from '../sigv4x509/vectors.js';

const keys = readVectors<OwnVectors>('sigv4x509-own.json').keys;
const vectors = readVectors<SignStringVectors>('sign-string.json');

function keyNamed(name: string) {
  const key = keys[name];
  if (key === undefined) throw new Error(`no key ${name}`);
  return key;
}

t.test('the fixed test string matches the one openssl-derived vectors hold', async (t) => {
  for (const name of ['rsa', 'p256', 'p384']) {
    const expected = vectors.cases.find((c) => c.key === name)?.messageHex;
    t.equal(Buffer.from(signingTestMessage(createPublicKey(keyNamed(name).privateKeyPem))).toString('hex'), expected, name);
  }
});

t.test('key types without a defined key digest sign the bare prefix (as the reference helper)', async (t) => {
  const { publicKey } = generateKeyPairSync('ed25519');
  t.equal(Buffer.from(signingTestMessage(publicKey)).toString('latin1'), 'AWS Roles Anywhere Credential Helper Signing Test1');
});

t.test('RSA: every format and digest, byte for byte', async (t) => {
  const source = softwareKey(keyNamed('rsa').privateKeyPem, 'RSA');
  for (const vector of vectors.cases.filter((c) => c.key === 'rsa')) {
    t.equal(Buffer.from(await signTestString(source, { format: 'text', digest: vector.digest })).toString('latin1'), vector.signatureHex, `${vector.digest} text`);
    t.equal(Buffer.from(await signTestString(source, { format: 'json', digest: vector.digest })).toString('latin1'), `"${vector.signatureHex}"`, `${vector.digest} json`);
    t.equal(Buffer.from(await signTestString(source, { format: 'bin', digest: vector.digest })).toString('hex'), vector.signatureHex, `${vector.digest} bin`);
  }
});

t.test('defaults are json and SHA256', async (t) => {
  const source = softwareKey(keyNamed('rsa').privateKeyPem, 'RSA');
  const expected = vectors.cases.find((c) => c.key === 'rsa' && c.digest === 'SHA256')?.signatureHex;
  t.equal(Buffer.from(await signTestString(source)).toString('latin1'), `"${expected}"`);
});

t.test('EC: every format verifies with the digest asked for', async (t) => {
  const check = (publicKey: KeyObject, digest: SignDigest, messageHex: string, signature: Buffer): boolean =>
    verify(digest.toLowerCase(), Buffer.from(messageHex, 'hex'), { key: publicKey, dsaEncoding: 'der' }, signature);
  for (const vector of vectors.cases.filter((c) => c.key !== 'rsa')) {
    const key = keyNamed(vector.key);
    const source = softwareKey(key.privateKeyPem, 'EC');
    const text = Buffer.from(await signTestString(source, { format: 'text', digest: vector.digest })).toString('latin1');
    const json = Buffer.from(await signTestString(source, { format: 'json', digest: vector.digest })).toString('latin1');
    const bin = Buffer.from(await signTestString(source, { format: 'bin', digest: vector.digest }));
    t.match(text, /^[0-9a-f]+$/, `${vector.key} ${vector.digest} text is bare lower-case hex`);
    t.match(json, /^"[0-9a-f]+"$/, `${vector.key} ${vector.digest} json is one JSON string`);
    const signatures: ReadonlyArray<readonly [string, Buffer]> = [
      ['text', Buffer.from(text, 'hex')],
      ['json', Buffer.from(JSON.parse(json) as string, 'hex')],
      ['bin', bin],
      ['vector', Buffer.from(vector.signatureHex, 'hex')],
    ];
    for (const [what, signature] of signatures) {
      t.ok(check(createPublicKey(keyNamed(vector.key).privateKeyPem), vector.digest, vector.messageHex, signature), `${vector.key} ${vector.digest} ${what} verifies`);
    }
    t.notOk(check(createPublicKey(keyNamed(vector.key).privateKeyPem), vector.digest === 'SHA256' ? 'SHA384' : 'SHA256', vector.messageHex, bin), `${vector.key} ${vector.digest}: not over another digest`);
  }
});

t.test('refusals', async (t) => {
  const source = softwareKey(keyNamed('p256').privateKeyPem, 'EC');
  await t.rejects(signTestString(source, { format: 'xml' as 'json' }), { name: 'SignerError', code: 'USAGE', message: '--format xml is not one of json, text, bin' });
  await t.rejects(signTestString(source, { digest: 'SHA1' as 'SHA256' }), { name: 'SignerError', code: 'USAGE', message: '--digest SHA1 is not one of SHA256, SHA384, SHA512' });
  t.equal(source.signatures, 0, 'nothing was signed');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime192v1' });
  t.throws(() => signingTestMessage(publicKey), {
    name: 'SignerError',
    code: 'KEY_TYPE_UNSUPPORTED',
    message: 'EC curve prime192v1 is not supported: use P-256 or P-384',
  });
});
