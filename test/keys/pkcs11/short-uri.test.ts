import t from 'tap';
import type { ModuleInventory } from '../../../src/keys/pkcs11/inventory.js';
import { shortenInventoryUris, shortestSelectingUri } from '../../../src/keys/pkcs11/short-uri.js';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from '../../../src/keys/pkcs11/uri.js';

const token = { token: 'ci', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serial: 'aa01' };
const otherToken = { token: 'spare', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serial: 'bb02' };
const id01 = new Uint8Array([1]);
const id02 = new Uint8Array([2]);

const ciCert: Pkcs11Uri = { ...token, object: 'ci-key', type: 'cert', id: id01 };
const ciKey: Pkcs11Uri = { ...token, object: 'ci-key', type: 'private', id: id01 };
const otherCert: Pkcs11Uri = { ...token, object: 'backup', type: 'cert', id: id02 };
const spareCert: Pkcs11Uri = { ...otherToken, object: 'ci-key', type: 'cert', id: id01 };

function short(target: Pkcs11Uri, all: readonly Pkcs11Uri[], keep?: Pkcs11Uri): string {
  return formatPkcs11Uri(shortestSelectingUri(target, all, keep));
}

t.test('one attribute when one is enough, in reading order', async (t) => {
  t.equal(short(otherCert, [ciCert, ciKey, otherCert]), 'pkcs11:object=backup', 'the label alone picks it');
  t.equal(short(ciKey, [ciCert, ciKey, otherCert]), 'pkcs11:type=private', 'the only private key');
  t.equal(short(ciCert, [ciCert]), 'pkcs11:token=ci', 'a lone object: its token is enough');
});

t.test('two or three attributes when the objects share labels, ids and tokens', async (t) => {
  const all = [ciCert, ciKey, otherCert, spareCert];
  t.equal(short(ciCert, all), 'pkcs11:token=ci;object=ci-key;type=cert', 'label shared with its key and with another token');
  t.equal(short(spareCert, all), 'pkcs11:token=spare', 'the only object on that token');
  t.equal(short(ciKey, all), 'pkcs11:type=private');
  const twoKeys = [...all, { ...otherToken, object: 'ci-key', type: 'private' as const, id: id01 }];
  t.equal(short(ciKey, twoKeys), 'pkcs11:token=ci;type=private');
});

t.test('every short URI selects exactly its object among all of them', async (t) => {
  const all = [ciCert, ciKey, otherCert, spareCert, { ...otherToken, object: 'other', type: 'public' as const, id: id02 }];
  const matches = (uri: Pkcs11Uri, candidate: Pkcs11Uri): boolean =>
    (Object.keys(uri) as Array<keyof Pkcs11Uri>).every((name) => {
      const want = uri[name];
      const have = candidate[name];
      return want instanceof Uint8Array && have instanceof Uint8Array ? Buffer.from(want).equals(Buffer.from(have)) : want === have;
    });
  for (const target of all) {
    const uri = shortestSelectingUri(target, all);
    t.same(all.filter((candidate) => matches(uri, candidate)), [target], formatPkcs11Uri(uri));
  }
});

t.test('ids are compared as bytes, and an empty label or id is never a selector', async (t) => {
  const noLabel: Pkcs11Uri = { ...token, object: '', type: 'cert', id: id02 };
  t.equal(short(noLabel, [ciCert, noLabel]), 'pkcs11:id=%02');
  const sameIdCopy: Pkcs11Uri = { ...token, object: 'x', type: 'cert', id: new Uint8Array([1]) };
  t.equal(short(sameIdCopy, [ciCert, sameIdCopy]), 'pkcs11:object=x', 'equal ids in different arrays are equal');
});

t.test('two objects alike in every attribute: the full form comes back', async (t) => {
  const twin: Pkcs11Uri = { ...ciCert };
  t.equal(short(ciCert, [ciCert, twin]), 'pkcs11:token=ci;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=aa01;object=ci-key;type=cert;id=%01');
});

t.test('the filter given to list is kept: it is what hid the other tokens', async (t) => {
  t.equal(short(ciCert, [ciCert, otherCert], { serial: 'aa01' }), 'pkcs11:serial=aa01;object=ci-key');
});

t.test('shortenInventoryUris rewrites the token and object URIs of a listing, and leaves PINs out', async (t) => {
  const tokenInventory = (uri: Pkcs11Uri, objects: Pkcs11Uri[]) => ({
    slotId: '0',
    slotDescription: 'slot',
    label: uri.token ?? '',
    model: uri.model ?? '',
    serial: uri.serial ?? '',
    uri: formatPkcs11Uri(uri),
    loggedIn: false,
    objects: objects.map((object) => ({
      type: object.type as 'cert' | 'private' | 'public',
      label: object.object ?? '',
      idHex: Buffer.from(object.id ?? []).toString('hex'),
      uri: formatPkcs11Uri(object),
      detail: 'EC P-256',
    })),
  });
  const modules: ModuleInventory[] = [
    { path: '/usr/lib/softhsm/libsofthsm2.so', library: 'SoftHSM', tokens: [tokenInventory(token, [ciCert, otherCert]), tokenInventory(otherToken, [spareCert])] },
  ];
  const shortened = shortenInventoryUris(modules);
  t.same(shortened[0]?.tokens.map((entry) => entry.uri), ['pkcs11:token=ci', 'pkcs11:token=spare']);
  t.same(shortened[0]?.tokens[0]?.objects.map((entry) => entry.uri), ['pkcs11:token=ci;object=ci-key', 'pkcs11:object=backup']);
  t.same(shortened[0]?.tokens[1]?.objects.map((entry) => entry.uri), ['pkcs11:token=spare']);
  t.equal(modules[0]?.tokens[0]?.uri, formatPkcs11Uri(token), 'the input listing is not changed');

  // list 'pkcs11:token=ci' shows only that token; its lone certificate needs nothing more.
  const onlyCi: ModuleInventory[] = [{ path: '/usr/lib/softhsm/libsofthsm2.so', library: 'SoftHSM', tokens: [tokenInventory(token, [ciCert])] }];
  const filtered = shortenInventoryUris(onlyCi, parsePkcs11Uri('pkcs11:token=ci?pin-value=123456&module-path=/x.so'));
  t.equal(filtered[0]?.tokens[0]?.objects[0]?.uri, 'pkcs11:token=ci', 'the filter\'s token attributes are kept');
  const bySerial = shortenInventoryUris(onlyCi, parsePkcs11Uri('pkcs11:serial=aa01'));
  t.equal(bySerial[0]?.tokens[0]?.objects[0]?.uri, 'pkcs11:token=ci;serial=aa01', 'a serial filter stays in');
  t.notMatch(JSON.stringify(filtered), /123456|pin-value|module-path/, 'the filter\'s PIN and module query never reach the output');
});
