import t from 'tap';
import { encodeTss2KeyFile, encodeTss2KeyFilePem } from '../../../src/keys/tpm/keyfile-encode.js';
import { parseTss2KeyFile } from '../../../src/keys/tpm/keyfile.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');
// A P-256 signing key's TPM2B_PUBLIC (attributes 0x00040072) and a stand-in TPM2B_PRIVATE.
const PUBLIC = hex('0056' + '0023000b00040072000000100010000300100020' + '11'.repeat(32) + '0020' + '22'.repeat(32));
const PRIVATE = hex('0004' + 'deadbeef');

t.test('a key without a password: emptyAuth TRUE, the owner hierarchy as parent, the blobs as given', async (t) => {
  const der = encodeTss2KeyFile({ emptyAuth: true, parent: 0x40000001, publicBlob: PUBLIC, privateBlob: PRIVATE });
  t.equal(
    der.toString('hex'),
    '3075' + '06066781050a0103' + 'a003010101' + '020440000001' + '0458' + PUBLIC.toString('hex') + '0406' + PRIVATE.toString('hex'),
  );
  const parsed = parseTss2KeyFile(Buffer.from(encodeTss2KeyFilePem({ emptyAuth: true, parent: 0x40000001, publicBlob: PUBLIC, privateBlob: PRIVATE })), 'k.pem');
  t.same([parsed.emptyAuth, parsed.parent, parsed.rsaParent], [true, 0x40000001, false]);
  t.same(parsed.publicBlob, PUBLIC);
  t.same(parsed.privateBlob, PRIVATE);
});

t.test('a password key leaves emptyAuth out (DEFAULT FALSE); a persistent parent gets a leading zero byte', async (t) => {
  const der = encodeTss2KeyFile({ emptyAuth: false, parent: 0x81000001, publicBlob: PUBLIC, privateBlob: PRIVATE });
  t.equal(der.subarray(0, 19).toString('hex'), '3071' + '06066781050a0103' + '02050081000001' + '0458');
  const parsed = parseTss2KeyFile(der, 'k.der');
  t.same([parsed.emptyAuth, parsed.parent], [false, 0x81000001]);
});

t.test('long blobs take a two-byte DER length; the PEM label is TSS2 PRIVATE KEY', async (t) => {
  const privateBlob = Buffer.concat([hex('012c'), Buffer.alloc(300, 7)]);
  const pem = encodeTss2KeyFilePem({ emptyAuth: true, parent: 0x40000001, publicBlob: PUBLIC, privateBlob });
  t.match(pem, /^-----BEGIN TSS2 PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END TSS2 PRIVATE KEY-----\n$/);
  t.same(parseTss2KeyFile(Buffer.from(pem), 'k.pem').privateBlob, privateBlob);
  t.throws(() => encodeTss2KeyFile({ emptyAuth: true, parent: -1, publicBlob: PUBLIC, privateBlob }), { code: 'INTERNAL', message: '-1 is not a 32-bit handle' });
});
