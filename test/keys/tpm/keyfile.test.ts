import { createPublicKey } from 'node:crypto';
import t from 'tap';
import { TPMA_OBJECT, TPM_ALG, TPM_ECC_CURVE, TPM_RH } from '../../../src/keys/tpm/constants.js';
import { parseTss2KeyFile } from '../../../src/keys/tpm/keyfile.js';
import { publicKeyOf } from '../../../src/keys/tpm/public-area.js';
import {
  tpm2OpensslEcP256KeyPem,
  tpm2OpensslEcP256PasswordKeyPem,
  tpm2OpensslEcP256PasswordPublicPem,
  tpm2OpensslEcP256PublicPem,
  tpm2OpensslEcP256UnderPersistentKeyPem,
  tpm2OpensslEcP256UnderPersistentPublicPem,
  tpm2OpensslRsa2048KeyPem,
  tpm2OpensslRsa2048PublicPem,
} from './vectors.js';

const PATH = '/keys/k.pem';

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function pemOf(der: Uint8Array, label = 'TSS2 PRIVATE KEY'): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A DER element; lengths up to 65535 are enough here. */
function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const value = Buffer.concat(contents);
  const length = value.length < 0x80 ? Buffer.from([value.length]) : value.length < 0x100 ? Buffer.from([0x81, value.length]) : Buffer.from([0x82, value.length >> 8, value.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, value]);
}

const hex = (value: string): Buffer => Buffer.from(value, 'hex');
const OID_LOADABLE = hex('6781050a0103');
const OID_IMPORTABLE = hex('6781050a0104');
const OID_SEALED = hex('6781050a0105');

// pubkey and privkey of the tpm2-openssl EC key, at the offsets `openssl asn1parse` shows.
const ecDer = derOf(tpm2OpensslEcP256KeyPem);
const ecPublicBlob = ecDer.subarray(24, 112);
const ecPrivateBlob = ecDer.subarray(115, 243);

function keyDer(options: { oid?: Buffer; optional?: Buffer[]; parent?: Buffer; publicBlob?: Buffer; privateBlob?: Buffer; extra?: Buffer[] } = {}): Buffer {
  return tlv(
    0x30,
    tlv(0x06, options.oid ?? OID_LOADABLE),
    ...(options.optional ?? [tlv(0xa0, tlv(0x01, hex('ff')))]),
    tlv(0x02, options.parent ?? hex('40000001')),
    tlv(0x04, options.publicBlob ?? ecPublicBlob),
    tlv(0x04, options.privateBlob ?? ecPrivateBlob),
    ...(options.extra ?? []),
  );
}

t.test('the fixture offsets are the pubkey and privkey TPM2Bs', async (t) => {
  t.equal(ecPublicBlob.readUInt16BE(0), ecPublicBlob.length - 2);
  t.equal(ecPrivateBlob.readUInt16BE(0), ecPrivateBlob.length - 2);
  t.equal(ecDer.length, 243);
});

t.test('tpm2-openssl EC P-256 key: emptyAuth written as BOOLEAN 0x01, owner parent', async (t) => {
  t.equal(ecDer.subarray(11, 16).toString('hex'), 'a003010101', 'the file really holds the non-DER TRUE');
  const key = parseTss2KeyFile(Buffer.from(tpm2OpensslEcP256KeyPem), PATH);
  t.equal(key.emptyAuth, true);
  t.equal(key.parent, TPM_RH.OWNER);
  t.equal(key.rsaParent, false);
  t.same(key.certificates, []);
  t.ok(key.publicBlob.equals(ecPublicBlob), 'public blob kept as stored, size included');
  t.ok(key.privateBlob.equals(ecPrivateBlob), 'private blob kept as stored, size included');
  const area = key.publicArea;
  if (area.type !== TPM_ALG.ECC) throw new Error('expected ECC');
  t.equal(area.curveId, TPM_ECC_CURVE.NIST_P256);
  t.equal(area.nameAlg, TPM_ALG.SHA256);
  t.equal(area.scheme.scheme, TPM_ALG.NULL);
  t.equal(area.objectAttributes & TPMA_OBJECT.sign, TPMA_OBJECT.sign);
  t.ok(publicKeyOf(area, PATH).equals(createPublicKey(tpm2OpensslEcP256PublicPem)), 'same public key as openssl reports');
});

t.test('tpm2-openssl password key: emptyAuth written as an explicit FALSE', async (t) => {
  const key = parseTss2KeyFile(Buffer.from(tpm2OpensslEcP256PasswordKeyPem), PATH);
  t.equal(key.emptyAuth, false);
  t.ok(publicKeyOf(key.publicArea, PATH).equals(createPublicKey(tpm2OpensslEcP256PasswordPublicPem)));
});

t.test('tpm2-openssl RSA 2048 key', async (t) => {
  const key = parseTss2KeyFile(Buffer.from(tpm2OpensslRsa2048KeyPem), PATH);
  const area = key.publicArea;
  if (area.type !== TPM_ALG.RSA) throw new Error('expected RSA');
  t.equal(area.keyBits, 2048);
  t.equal(area.exponent, 0, 'the default exponent is stored as 0');
  t.ok(publicKeyOf(area, PATH).equals(createPublicKey(tpm2OpensslRsa2048PublicPem)), 'exponent 0 means 65537');
});

t.test('a key under a persistent parent: INTEGER with a leading zero byte', async (t) => {
  const key = parseTss2KeyFile(Buffer.from(tpm2OpensslEcP256UnderPersistentKeyPem), PATH);
  t.equal(key.parent, 0x81000001);
  t.ok(publicKeyOf(key.publicArea, PATH).equals(createPublicKey(tpm2OpensslEcP256UnderPersistentPublicPem)));
});

t.test('CERTIFICATE blocks in the same file come back in order; other blocks are ignored', async (t) => {
  const leaf = Buffer.from('leaf certificate bytes');
  const issuer = Buffer.from('issuer certificate bytes');
  const file = `${pemOf(leaf, 'CERTIFICATE')}${tpm2OpensslEcP256KeyPem}${pemOf(Buffer.from('x'), 'X509 CRL')}${pemOf(issuer, 'CERTIFICATE')}`;
  const key = parseTss2KeyFile(Buffer.from(file), PATH);
  t.same(key.certificates.map((der) => der.toString()), ['leaf certificate bytes', 'issuer certificate bytes']);
});

t.test('DER files, the legacy OID, description, rsaParent, other hierarchies', async (t) => {
  const der = keyDer({
    oid: hex('6781050a02'),
    optional: [tlv(0xa0, tlv(0x01, hex('00'))), tlv(0xa4, tlv(0x0c, Buffer.from('my key'))), tlv(0xa5, tlv(0x01, hex('ff')))],
    parent: hex('4000000b'),
  });
  const key = parseTss2KeyFile(der, PATH);
  t.equal(key.emptyAuth, false);
  t.equal(key.description, 'my key');
  t.equal(key.rsaParent, true);
  t.equal(key.parent, TPM_RH.ENDORSEMENT);
  t.equal(parseTss2KeyFile(keyDer({ optional: [] }), PATH).emptyAuth, false, 'absent emptyAuth means a password is needed');
});

t.test('unsupported key kinds are refused by name', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['policy', keyDer({ optional: [tlv(0xa1, tlv(0x30))] }), `${PATH} is bound to a TPM policy (the [1] policy field), e.g. PCR values, which is not supported: create a plain loadable key (tpm2-openssl genpkey, no policy)`],
    ['secret', keyDer({ optional: [tlv(0xa2, tlv(0x04, hex('00')))] }), `${PATH} carries an import secret (the [2] secret field) of a key that must be imported first, which is not supported: create a plain loadable key (tpm2-openssl genpkey, no policy)`],
    ['authPolicy', keyDer({ optional: [tlv(0xa3, tlv(0x30))] }), `${PATH} carries signed authorization policies (the [3] authPolicy field), which is not supported: create a plain loadable key (tpm2-openssl genpkey, no policy)`],
    ['unknown field', keyDer({ optional: [tlv(0xa6, tlv(0x05))] }), `${PATH} has an optional field [6] that this version does not know, which is not supported: create a plain loadable key (tpm2-openssl genpkey, no policy)`],
    ['importable', keyDer({ oid: OID_IMPORTABLE }), `${PATH} is an importable key (2.23.133.10.1.4) that must go through TPM2_Import first; only loadable keys (2.23.133.10.1.3) are supported, which is not supported: create a plain loadable key (tpm2-openssl genpkey, no policy)`],
    ['sealed', keyDer({ oid: OID_SEALED }), `${PATH} holds sealed data (2.23.133.10.1.5), not a signing key, which is not supported: create a plain loadable key (tpm2-openssl genpkey, no policy)`],
  ];
  for (const [name, der, message] of cases) {
    t.throws(() => parseTss2KeyFile(Buffer.from(pemOf(der)), PATH), { code: 'NOT_SUPPORTED', message }, name);
  }
});

t.test('foreign, truncated and damaged files: one clear message each', async (t) => {
  const cases: [string, string | Buffer, string][] = [
    ['a PKCS#8 key', pemOf(Buffer.from('x'), 'PRIVATE KEY'), `${PATH} is not a TPM key file: it holds only "PRIVATE KEY", not a "TSS2 PRIVATE KEY": give a key made by tpm2-openssl or tpm2_encodeobject, or handle:0x81...`],
    ['no PEM at all', 'hello world\n', `${PATH} is not a TPM key file: it holds no PEM block, not a "TSS2 PRIVATE KEY": give a key made by tpm2-openssl or tpm2_encodeobject, or handle:0x81...`],
    ['cut before END', tpm2OpensslEcP256KeyPem.slice(0, 150), `${PATH}: PEM block "TSS2 PRIVATE KEY" that begins on line 1 has no END line: the file is truncated; get a fresh copy`],
    ['a line missing', tpm2OpensslEcP256KeyPem.split('\n').filter((_, i) => i !== 3).join('\n'), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (an element at offset 0 needs 240 bytes, 192 left): copy the file again or re-create the key`],
    ['bad base64', tpm2OpensslEcP256KeyPem.replace('MIHw', 'MI*w'), `${PATH}: PEM block "TSS2 PRIVATE KEY" that begins on line 1 is not valid base64: the file is damaged or truncated; get a fresh copy`],
    ['two keys', tpm2OpensslEcP256KeyPem + tpm2OpensslRsa2048KeyPem, `${PATH} holds 2 "TSS2 PRIVATE KEY" blocks: keep one key per file`],
    ['other OID', pemOf(keyDer({ oid: hex('2a864886f70d010101') })), `${PATH} is not a TPM 2.0 key: its type OID is 1.2.840.113549.1.1.1, not 2.23.133.10.1.3`],
    ['trailing bytes', pemOf(Buffer.concat([keyDer(), hex('00')])), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (1 byte(s) follow the key): copy the file again or re-create the key`],
    ['extra field', pemOf(keyDer({ extra: [tlv(0x04, hex('00'))] })), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (1 unexpected field(s) after privkey): copy the file again or re-create the key`],
    ['privkey missing', pemOf(tlv(0x30, tlv(0x06, OID_LOADABLE), tlv(0x02, hex('40000001')), tlv(0x04, ecPublicBlob))), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (privkey is missing): copy the file again or re-create the key`],
    ['pubkey cut short', pemOf(keyDer({ publicBlob: ecPublicBlob.subarray(0, 40) })), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (pubkey (TPM2B_PUBLIC) is truncated: needed 86 byte(s) at offset 2, 38 left): copy the file again or re-create the key`],
    ['privkey size wrong', pemOf(keyDer({ privateBlob: Buffer.concat([ecPrivateBlob, hex('00')]) })), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (privkey is not a TPM2B of its own length): copy the file again or re-create the key`],
    ['transient parent', pemOf(keyDer({ parent: hex('0080000000') })), `${PATH} names parent 0x80000000, which is neither a hierarchy nor a persistent key (0x81xxxxxx): re-create the key under the owner hierarchy or a persistent parent`],
    ['negative parent', pemOf(keyDer({ parent: hex('81000001') })), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (a negative INTEGER): copy the file again or re-create the key`],
    ['indefinite length', Buffer.concat([hex('3080'), ecDer.subarray(3)]), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (indefinite length at offset 0): copy the file again or re-create the key`],
    ['not a SEQUENCE', pemOf(tlv(0x04, ecDer)), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (it does not start with a SEQUENCE): copy the file again or re-create the key`],
    ['no type OID', pemOf(tlv(0x30, tlv(0x02, hex('40000001')))), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (no key type OID): copy the file again or re-create the key`],
    ['emptyAuth not a BOOLEAN', pemOf(keyDer({ optional: [tlv(0xa0, tlv(0x02, hex('01')))] })), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (emptyAuth has ASN.1 tag 0x2): copy the file again or re-create the key`],
    ['two values in [0]', pemOf(keyDer({ optional: [tlv(0xa0, tlv(0x01, hex('ff')), tlv(0x01, hex('ff')))] })), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (field [0] does not hold exactly one value): copy the file again or re-create the key`],
    ['a cut-off field inside [0]', pemOf(keyDer({ optional: [tlv(0xa0, hex('0105ff'))] })), `${PATH} holds a TSS2 PRIVATE KEY that is truncated or corrupt (an element at offset 0 needs 5 bytes, 1 left): copy the file again or re-create the key`],
  ];
  for (const [name, content, message] of cases) {
    t.throws(() => parseTss2KeyFile(Buffer.isBuffer(content) ? content : Buffer.from(content), PATH), { code: 'TPM_KEYFILE_INVALID', message }, name);
  }
});

t.test('keys that are not RSA or ECC are refused with the path', async (t) => {
  // A KEYEDHASH (HMAC) public area: type 0x0008.
  const keyedHash = hex('0008000b00040072' + '0000' + '0010' + '0000');
  const publicBlob = Buffer.concat([Buffer.from([0, keyedHash.length]), keyedHash]);
  t.throws(() => parseTss2KeyFile(keyDer({ publicBlob }), PATH), {
    code: 'KEY_TYPE_UNSUPPORTED',
    message: `${PATH}: the TPM object is of type 0x8 (KEYEDHASH: an HMAC key or sealed data), not an RSA or ECC key: only RSA and ECC keys can sign`,
  });
});

t.test('the file name is always added, whatever the problem text starts with', async (t) => {
  // A relative path that is also the first word of a problem ("a negative INTEGER").
  t.throws(() => parseTss2KeyFile(Buffer.from(pemOf(keyDer({ parent: hex('81000001') }))), 'a'), {
    code: 'TPM_KEYFILE_INVALID',
    message: 'a holds a TSS2 PRIVATE KEY that is truncated or corrupt (a negative INTEGER): copy the file again or re-create the key',
  });
});
