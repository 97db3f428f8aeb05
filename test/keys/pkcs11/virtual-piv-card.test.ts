import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import t from 'tap';
import { createVirtualPivCard, ecdsaSignDigest, tlv } from '../../helpers/virtual-piv-card.js';

// The test double must behave like the card it stands in for, or the ykcs11 tests prove nothing.

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const certificate = new Uint8Array(600).fill(0x30);
const apdu = (hex: string, data: Uint8Array = new Uint8Array(0)): Buffer => {
  const header = Buffer.from(hex, 'hex');
  return data.length === 0 ? header : Buffer.concat([header, Buffer.from([data.length]), data]);
};
const status = (response: Buffer): number => response.readUInt16BE(response.length - 2);
const pinBytes = (pin: string): Buffer => Buffer.from(pin.padEnd(8, '\xff'), 'latin1');
const challenge = (digest: Uint8Array): Buffer => tlv(0x7c, Buffer.concat([tlv(0x82, new Uint8Array(0)), tlv(0x81, digest)]));

t.test('ecdsaSignDigest signs the digest itself, as a card does', async (t) => {
  const message = Buffer.from('signed on a card');
  for (let i = 0; i < 5; i++) {
    const signature = ecdsaSignDigest(privateKey, createHash('sha256').update(message).digest());
    t.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature), `signature ${i + 1} verifies`);
  }
});

t.test('PIN: three tries, the count on an empty VERIFY, then blocked', async (t) => {
  const card = createVirtualPivCard({ serial: 1, pin: '123456', slots: [{ slot: 0x9a, privateKey, certificate }] });
  t.equal(status(await card.handle(apdu('00a40400', Buffer.from('a000000308', 'hex')))), 0x9000, 'SELECT PIV');
  t.equal(status(await card.handle(apdu('00200080'))), 0x63c3, 'not verified, 3 tries');
  t.equal(status(await card.handle(apdu('00200080', pinBytes('000000')))), 0x63c2);
  t.equal(status(await card.handle(apdu('00200080', pinBytes('123456')))), 0x9000, 'the right PIN resets the count');
  t.equal(status(await card.handle(apdu('00200080'))), 0x9000, 'verified');
  card.reset();
  t.equal(status(await card.handle(apdu('00200080'))), 0x63c3, 'a reset forgets the PIN');
  for (const expected of [0x63c2, 0x63c1, 0x6983]) t.equal(status(await card.handle(apdu('00200080', pinBytes('000000')))), expected);
  t.equal(status(await card.handle(apdu('00200080', pinBytes('123456')))), 0x6983, 'blocked: even the right PIN fails');
  t.equal(card.pinTriesLeft(), 0);
  t.same(card.log.filter((r) => r.ins === 0x20).map((r) => r.dataLength), [0, 8, 8, 0, 0, 8, 8, 8, 8], 'the log keeps lengths, never PIN bytes');
});

t.test('slot 9c wants a VERIFY immediately before each signature; 9a once per session', async (t) => {
  const card = createVirtualPivCard({ serial: 1, pin: '123456', slots: [{ slot: 0x9a, privateKey, certificate }, { slot: 0x9c, privateKey, certificate }] });
  const digest = createHash('sha256').update('x').digest();
  t.equal(status(await card.handle(apdu('0087119a', challenge(digest)))), 0x6982, '9a before VERIFY');
  t.equal(status(await card.handle(apdu('00200080', pinBytes('123456')))), 0x9000);
  t.equal(status(await card.handle(apdu('0087119a', challenge(digest)))), 0x9000, '9a after VERIFY');
  t.equal(status(await card.handle(apdu('0087119c', challenge(digest)))), 0x6982, '9c without a fresh VERIFY');
  t.equal(status(await card.handle(apdu('00200080', pinBytes('123456')))), 0x9000);
  const signed = await card.handle(apdu('0087119c', challenge(digest)));
  t.equal(status(signed), 0x9000, '9c right after VERIFY');
  t.equal(status(await card.handle(apdu('0087119c', challenge(digest)))), 0x6982, 'and only once');
  const signature = signed.subarray(4, signed.length - 2);
  t.ok(verify('sha256', Buffer.from('x'), { key: publicKey, dsaEncoding: 'der' }, signature), 'the 7C/82 template holds a DER signature');
});

t.test('certificates come back in 256-byte parts (61xx + GET RESPONSE)', async (t) => {
  const card = createVirtualPivCard({ serial: 0x01020304, pin: '123456', slots: [{ slot: 0x9c, privateKey, certificate }] });
  let response = await card.handle(apdu('00cb3fff', Buffer.from('5c035fc10a', 'hex')));
  const parts: Buffer[] = [];
  while (status(response) >> 8 === 0x61) {
    parts.push(response.subarray(0, -2));
    response = await card.handle(apdu('00c00000'));
  }
  t.equal(status(response), 0x9000);
  parts.push(response.subarray(0, -2));
  const object = Buffer.concat(parts);
  t.same([object[0], object[1], object.readUInt16BE(2)], [0x53, 0x82, object.length - 4], '53 with a two-byte length over the whole object');
  t.ok(object.length > 512, 'it took three parts');
  t.ok(object.includes(Buffer.from(certificate)), 'holds the certificate');
  t.equal(status(await card.handle(apdu('00cb3fff', Buffer.from('5c035fc105', 'hex')))), 0x6a82, 'an empty slot has no object');
  t.same((await card.handle(apdu('00f80000'))).subarray(0, 4), Buffer.from([1, 2, 3, 4]), 'GET SERIAL');
});
