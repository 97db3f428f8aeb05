import { constants, createHash, generateKeyPairSync, publicDecrypt, sign } from 'node:crypto';
import t from 'tap';
import pkcs11js from 'pkcs11js';
import { digestInfo, planSignature } from '../../../src/keys/pkcs11/mechanism.js';
import { ecPublicKeyFromAttributes, rsaPublicKeyFromAttributes, samePublicKey, unwrapEcPoint } from '../../../src/keys/pkcs11/public-key.js';
import { pinSecretSpec, pinTriesNote } from '../../../src/keys/pkcs11/pin.js';
import { parsePkcs11Uri } from '../../../src/keys/pkcs11/uri.js';

const message = Buffer.from('the string to sign');
const sha = (name: string) => createHash(name).update(message).digest();

t.test('DigestInfo is exactly what an RSA PKCS#1 v1.5 signature carries', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  for (const [digest, hash] of [['SHA256', 'sha256'], ['SHA384', 'sha384'], ['SHA512', 'sha512']] as const) {
    const signature = sign(hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    t.same(digestInfo(digest, sha(hash)), recovered, digest);
  }
});

t.test('EC: CKM_ECDSA over a host digest when offered, else the token\'s CKM_ECDSA_SHAxxx', async (t) => {
  const both = new Set([pkcs11js.CKM_ECDSA, pkcs11js.CKM_ECDSA_SHA256]);
  t.same(planSignature('EC', 'SHA256', message, both, 'k'), { mechanism: pkcs11js.CKM_ECDSA, mechanismName: 'CKM_ECDSA', input: sha('sha256'), rawEcdsa: true });
  t.same(planSignature('EC', 'SHA384', message, both, 'k').input, sha('sha384'), 'the digest argument picks the hash');
  t.same(planSignature('EC', 'SHA384', message, both, 'k', 256).input, sha('sha384').subarray(0, 32), 'a hash longer than the curve order is cut to its leftmost bits');
  t.same(planSignature('EC', 'SHA512', message, both, 'k', 384).input, sha('sha512').subarray(0, 48));
  t.same(planSignature('EC', 'SHA256', message, both, 'k', 384).input, sha('sha256'), 'a shorter hash stays whole');
  t.same(planSignature('EC', 'SHA512', message, both, 'k', 521).input, sha('sha512'), 'P-521: SHA-512 has fewer bits than the order');
  t.same(planSignature('EC', 'SHA256', message, new Set([pkcs11js.CKM_ECDSA_SHA256]), 'k'), { mechanism: pkcs11js.CKM_ECDSA_SHA256, mechanismName: 'CKM_ECDSA_SHA256', input: message, rawEcdsa: true });
  t.same(planSignature('EC', 'SHA256', message, undefined, 'k').mechanism, pkcs11js.CKM_ECDSA, 'no mechanism list: the widest-supported one');
  t.throws(() => planSignature('EC', 'SHA512', message, new Set([pkcs11js.CKM_ECDSA_SHA256]), 'pkcs11:object=k'), {
    code: 'PKCS11_MECHANISM_UNSUPPORTED',
    message: 'the token holding pkcs11:object=k offers neither CKM_ECDSA or CKM_ECDSA_SHA512: this token cannot make the signatures IAM Roles Anywhere needs',
  });
});

t.test('RSA: CKM_SHAxxx_RSA_PKCS when offered, else CKM_RSA_PKCS over a DigestInfo', async (t) => {
  const both = new Set([pkcs11js.CKM_RSA_PKCS, pkcs11js.CKM_SHA256_RSA_PKCS]);
  t.same(planSignature('RSA', 'SHA256', message, both, 'k'), { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS, mechanismName: 'CKM_SHA256_RSA_PKCS', input: message, rawEcdsa: false });
  t.same(planSignature('RSA', 'SHA384', message, both, 'k'), { mechanism: pkcs11js.CKM_RSA_PKCS, mechanismName: 'CKM_RSA_PKCS', input: digestInfo('SHA384', sha('sha384')), rawEcdsa: false }, 'SHA384 combined mechanism missing: falls back');
  t.same(planSignature('RSA', 'SHA256', message, new Set([pkcs11js.CKM_RSA_PKCS]), 'k').mechanism, pkcs11js.CKM_RSA_PKCS);
  t.same(planSignature('RSA', 'SHA256', message, undefined, 'k').mechanism, pkcs11js.CKM_RSA_PKCS, 'no mechanism list: raw PKCS#1 v1.5, which every RSA token has');
  t.same(planSignature('RSA', 'SHA256', Buffer.alloc(0), both, 'k').mechanism, pkcs11js.CKM_RSA_PKCS, 'an empty message is hashed here (modules refuse empty C_Sign data)');
  t.same(planSignature('RSA', 'SHA256', Buffer.alloc(0), new Set([pkcs11js.CKM_SHA256_RSA_PKCS]), 'k').mechanism, pkcs11js.CKM_SHA256_RSA_PKCS, '...unless that is the only way');
  t.throws(() => planSignature('RSA', 'SHA256', message, new Set([pkcs11js.CKM_RSA_X_509]), 'pkcs11:object=k'), {
    code: 'PKCS11_MECHANISM_UNSUPPORTED',
    message: 'the token holding pkcs11:object=k offers neither CKM_SHA256_RSA_PKCS or CKM_RSA_PKCS: this token cannot make the signatures IAM Roles Anywhere needs',
  });
  t.throws(() => planSignature('ML-DSA', 'SHA256', message, both, 'pkcs11:object=k'), {
    code: 'KEY_TYPE_UNSUPPORTED',
    message: 'pkcs11:object=k is a ML-DSA key, which PKCS#11 signing here does not support: use an RSA or EC key',
  });
});

t.test('public keys rebuilt from PKCS#11 attributes equal the originals', async (t) => {
  // CKA_EC_PARAMS of a named curve is the DER of its OID.
  const curves = { prime256v1: '06082a8648ce3d030107', secp384r1: '06052b81040022', secp521r1: '06052b81040023' };
  for (const [namedCurve, oid] of Object.entries(curves)) {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve });
    const params = Buffer.from(oid, 'hex');
    const jwk = publicKey.export({ format: 'jwk' });
    const size = Buffer.from(jwk.x as string, 'base64url').length;
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
    t.equal(point.length, 1 + 2 * size);
    const wrapped = Buffer.concat([point.length < 128 ? Buffer.from([4, point.length]) : Buffer.from([4, 0x81, point.length]), point]);
    t.ok(samePublicKey(ecPublicKeyFromAttributes(params, wrapped), publicKey), `${namedCurve}: DER-wrapped CKA_EC_POINT`);
    t.ok(samePublicKey(ecPublicKeyFromAttributes(params, point), publicKey), `${namedCurve}: bare CKA_EC_POINT`);
  }
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const modulus = Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n as string, 'base64url')]);
  t.ok(samePublicKey(rsaPublicKeyFromAttributes(modulus, Buffer.from([1, 0, 1])), publicKey), 'RSA, with a leading zero byte on the modulus');
  t.notOk(samePublicKey(rsaPublicKeyFromAttributes(modulus, Buffer.from([3])), publicKey), 'another exponent is another key');
});

t.test('unwrapEcPoint tells the DER-wrapped point from a bare one', async (t) => {
  const bare = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0x41)]);
  t.same(unwrapEcPoint(Buffer.concat([Buffer.from([4, 65]), bare])), bare);
  t.same(unwrapEcPoint(bare), bare, 'bare 04||X||Y: the second byte is X, not a length that fits');
  const big = Buffer.concat([Buffer.from([4]), Buffer.alloc(132, 0x42)]);
  t.same(unwrapEcPoint(Buffer.concat([Buffer.from([4, 0x81, 133]), big])), big, 'long-form length (P-521)');
});

t.test('the PIN comes from flags first, then the first URI that names a PIN, then the environment', async (t) => {
  const token = { label: 'YubiKey PIV #123', serial: '123' };
  const keyUri = parsePkcs11Uri('pkcs11:object=k?pin-source=file:/run/pin');
  const certUri = parsePkcs11Uri('pkcs11:object=c?pin-value=1111');
  t.same(pinSecretSpec({ envVar: 'ROLES_ANYWHERE_PIN' }, [keyUri, certUri], token), {
    source: 'file:/run/pin',
    envVar: 'ROLES_ANYWHERE_PIN',
    promptLabel: 'PIN for token "YubiKey PIV #123" (serial 123)',
    missingCode: 'PKCS11_PIN_REQUIRED',
    missingHint: 'set ROLES_ANYWHERE_PIN, add pin-source=file:/path (or pin-source=|command) to the URI, or run from a terminal',
  });
  t.same(pinSecretSpec({}, [undefined, certUri], token).value, '1111', 'the certificate URI when the key URI says nothing');
  t.equal(pinSecretSpec({}, [], token).envVar, 'ROLES_ANYWHERE_PIN', 'ROLES_ANYWHERE_PIN by default');
  const flags = pinSecretSpec({ value: '2222', envVar: 'MY_PIN' }, [keyUri, certUri], token);
  t.equal(flags.value, '2222');
  t.equal(flags.source, undefined, 'a value makes the other sources moot');
  t.equal(flags.envVar, 'MY_PIN');
});

t.test('what the token says after a wrong PIN, in words', async (t) => {
  t.equal(pinTriesNote(0), 'the token does not say how many tries are left');
  t.equal(pinTriesNote(pkcs11js.CKF_USER_PIN_COUNT_LOW), 'the token reports few tries left');
  t.equal(pinTriesNote(pkcs11js.CKF_USER_PIN_COUNT_LOW | pkcs11js.CKF_USER_PIN_FINAL_TRY), 'one try is left before the PIN blocks');
  t.equal(pinTriesNote(pkcs11js.CKF_USER_PIN_LOCKED | pkcs11js.CKF_USER_PIN_FINAL_TRY), 'the PIN is now blocked');
});
