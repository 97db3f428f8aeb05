import t from 'tap';
import { TPMA_OBJECT, TPM_ALG, TPM_ECC_CURVE } from '../../../src/keys/tpm/constants.js';
import { TpmReader, TpmWriter } from '../../../src/keys/tpm/marshal.js';
import {
  assertUsableSigningKey,
  keyTypeOf,
  parsePublicArea,
  publicKeyOf,
  readPublicArea,
  writePublicArea,
  type TpmEccPublicArea,
} from '../../../src/keys/tpm/public-area.js';
import { tpm2ToolsReadPublicEcResponseHex } from './vectors.js';

// The TPMT_PUBLIC inside the recorded TPM2_ReadPublic response (after header and size).
const recorded = Buffer.from(tpm2ToolsReadPublicEcResponseHex, 'hex');
const recordedArea = recorded.subarray(12, 12 + recorded.readUInt16BE(10));

function eccArea(overrides: Partial<TpmEccPublicArea> = {}): TpmEccPublicArea {
  return { ...(parsePublicArea(recordedArea, { what: 'area', code: 'TPM_KEYFILE_INVALID' }) as TpmEccPublicArea), ...overrides };
}

t.test('a public area written back gives the same bytes', async (t) => {
  const writer = new TpmWriter();
  writePublicArea(writer, eccArea());
  t.equal(writer.toBuffer().toString('hex'), recordedArea.toString('hex'));
  const area = eccArea();
  t.equal(keyTypeOf(area), 'EC');
  t.equal(area.curveId, TPM_ECC_CURVE.NIST_P256);
  t.same(area.scheme, { scheme: TPM_ALG.NULL });
});

t.test('schemes with a hash, and ECDAA with its count, are read completely', async (t) => {
  const withEcdsa = new TpmWriter();
  writePublicArea(withEcdsa, eccArea({ scheme: { scheme: TPM_ALG.ECDSA, hashAlg: TPM_ALG.SHA384 } }));
  t.same(parsePublicArea(withEcdsa.toBuffer(), { what: 'area', code: 'TPM_KEYFILE_INVALID' }).scheme, { scheme: TPM_ALG.ECDSA, hashAlg: TPM_ALG.SHA384 });

  // type, nameAlg, attributes, authPolicy, symmetric NULL, ECDAA(SHA256, count 1), P-256, kdf NULL, x, y
  const ecdaa = Buffer.from('0023000b00040072' + '0000' + '0010' + '001a' + '000b' + '0001' + '0003' + '0010' + '0000' + '0000', 'hex');
  const reader = new TpmReader(ecdaa, { what: 'ecdaa', code: 'TPM_KEYFILE_INVALID' });
  t.same(readPublicArea(reader).scheme, { scheme: TPM_ALG.ECDAA, hashAlg: TPM_ALG.SHA256 });
  t.equal(reader.remaining, 0, 'the count was consumed');
});

t.test('keys that cannot sign a host digest with a password are refused by name', async (t) => {
  const attributes = eccArea().objectAttributes;
  t.doesNotThrow(() => assertUsableSigningKey(eccArea(), 'k'));
  t.throws(() => assertUsableSigningKey(eccArea({ objectAttributes: attributes & ~TPMA_OBJECT.sign }), 'k.pem'), {
    code: 'KEY_TYPE_UNSUPPORTED',
    message: 'k.pem is not a signing key (its TPM attributes lack "sign"): create the key with the sign attribute',
  });
  t.throws(() => assertUsableSigningKey(eccArea({ objectAttributes: attributes | TPMA_OBJECT.restricted }), 'k.pem'), {
    code: 'NOT_SUPPORTED',
    message: 'k.pem is a restricted signing key, which only signs data the TPM produced itself: use an unrestricted signing key',
  });
  t.throws(() => assertUsableSigningKey(eccArea({ objectAttributes: attributes & ~TPMA_OBJECT.userWithAuth }), 'k.pem'), {
    code: 'NOT_SUPPORTED',
    message: 'k.pem can only be used with a policy session (userWithAuth is clear), which is not supported: create the key with userWithAuth',
  });
});

t.test('public keys: curves Node cannot use, points off the curve, oversized coordinates', async (t) => {
  t.throws(() => publicKeyOf(eccArea({ curveId: TPM_ECC_CURVE.BN_P256 }), 'k.pem'), {
    code: 'KEY_TYPE_UNSUPPORTED',
    message: 'k.pem is an ECC key on TPM curve 0x0010, which IAM Roles Anywhere cannot use: use NIST P-256 or P-384',
  });
  const area = eccArea();
  t.throws(() => publicKeyOf({ ...area, y: Buffer.from(area.x) }, 'k.pem'), { code: 'TPM_KEYFILE_INVALID', message: 'k.pem holds an ECC point that is not on P-256' });
  t.throws(() => publicKeyOf({ ...area, x: Buffer.concat([area.x, Buffer.from([1])]) }, 'k.pem'), { code: 'TPM_KEYFILE_INVALID', message: 'k.pem has an ECC point too long for P-256' });
});
