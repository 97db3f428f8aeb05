import t from 'tap';
import { formatPkcs11Uri, parsePkcs11Uri, redactPkcs11Uri, redactUnparsedPkcs11Uri, type Pkcs11Uri } from '../../../src/keys/pkcs11/uri.js';
import { SignerError } from '../../../src/errors.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

// RFC 7512 section 3.3, every example, with what it must parse to.
const rfcExamples: readonly { uri: string; parsed: Pkcs11Uri }[] = [
  { uri: 'pkcs11:', parsed: {} },
  { uri: 'pkcs11:object=my-pubkey;type=public', parsed: { object: 'my-pubkey', type: 'public' } },
  { uri: 'pkcs11:object=my-key;type=private?pin-source=file:/etc/token', parsed: { object: 'my-key', type: 'private', pinSource: 'file:/etc/token' } },
  {
    uri: 'pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin',
    parsed: {
      token: 'The Software PKCS#11 Softtoken',
      manufacturer: 'Snake Oil, Inc.',
      model: '1.0',
      object: 'my-certificate',
      type: 'cert',
      id: bytes('69953e5cf4bdec91'),
      serial: '',
      pinSource: 'file:/etc/token_pin',
    },
  },
  { uri: 'pkcs11:object=my-sign-key;type=private?module-name=mypkcs11', parsed: { object: 'my-sign-key', type: 'private', moduleName: 'mypkcs11' } },
  { uri: 'pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1', parsed: { object: 'my-sign-key', type: 'private', modulePath: '/mnt/libmypkcs11.so.1' } },
  {
    uri: 'pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin',
    parsed: { token: 'Software PKCS#11 softtoken', manufacturer: 'Snake Oil, Inc.', pinValue: 'the-pin' },
  },
  { uri: 'pkcs11:slot-description=Sun%20Metaslot', parsed: { slotDescription: 'Sun Metaslot' } },
  {
    uri: 'pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;library-version=1.23',
    parsed: { libraryManufacturer: 'Snake Oil, Inc.', libraryDescription: 'Soft Token Library', libraryVersion: { major: 1, minor: 23 } },
  },
  {
    uri: 'pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03%Ba%dd%Ca%fe%04%05%06',
    parsed: { token: 'My token% created by Joe', libraryVersion: { major: 3, minor: 0 }, id: bytes('010203badd cafe040506'.replace(' ', '')) },
  },
  { uri: 'pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert', parsed: { token: 'A name with a substring %;', object: 'my-certificate', type: 'cert' } },
  {
    uri: 'pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;type=cert',
    parsed: { token: 'Name with a small A with acute: \u00e1', object: 'my-certificate', type: 'cert' },
  },
];

t.test('RFC 7512 examples parse to the attributes they name', async (t) => {
  for (const { uri, parsed } of rfcExamples) {
    t.same(parsePkcs11Uri(uri), parsed, uri);
  }
});

t.test('RFC 7512 examples survive format -> parse unchanged', async (t) => {
  for (const { uri, parsed } of rfcExamples) {
    const formatted = formatPkcs11Uri(parsePkcs11Uri(uri));
    t.same(parsePkcs11Uri(formatted), parsed, `${uri} -> ${formatted}`);
  }
});

t.test('the canonical form is exact: attribute order, upper-case hex, ids always encoded', async (t) => {
  const cases: readonly [Pkcs11Uri, string][] = [
    [{}, 'pkcs11:'],
    [{ object: 'my-pubkey', type: 'public' }, 'pkcs11:object=my-pubkey;type=public'],
    [{ id: bytes('69953e5cf4bdec91'), token: 'The Software PKCS#11 Softtoken' }, 'pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;id=%69%95%3E%5C%F4%BD%EC%91'],
    [{ token: 'a;b?c&d/e|f%g' }, 'pkcs11:token=a%3Bb%3Fc&d%2Fe%7Cf%25g'],
    [{ pinSource: 'a;b?c&d/e|f%g' }, 'pkcs11:?pin-source=a%3Bb?c%26d/e|f%25g'],
    [{ libraryVersion: { major: 3, minor: 0 } }, 'pkcs11:library-version=3'],
    [{ libraryVersion: { major: 2, minor: 40 } }, 'pkcs11:library-version=2.40'],
    [{ slotId: 18446744073709551615n }, 'pkcs11:slot-id=18446744073709551615'],
    [
      { modulePath: '/usr/lib/libykcs11.so', pinValue: '123456', object: 'Private key for Digital Signature', serial: '12345678', token: 'YubiKey PIV #12345678' },
      'pkcs11:token=YubiKey%20PIV%20%2312345678;serial=12345678;object=Private%20key%20for%20Digital%20Signature?pin-value=123456&module-path=/usr/lib/libykcs11.so',
    ],
    [{ token: 'unicode \u00e1\u4e2d' }, 'pkcs11:token=unicode%20%C3%A1%E4%B8%AD'],
    // RFC 7512: module-path may name a directory in which module-name is looked up
    [{ moduleName: 'ykcs11', modulePath: '/opt/yubico/lib' }, 'pkcs11:?module-name=ykcs11&module-path=/opt/yubico/lib'],
  ];
  for (const [uri, text] of cases) {
    t.equal(formatPkcs11Uri(uri), text);
    t.same(parsePkcs11Uri(text), uri, `round trip of ${text}`);
  }
});

t.test('reserved characters the RFC allows unencoded are accepted as they are', async (t) => {
  t.same(parsePkcs11Uri("pkcs11:token=:[]@!$'()*+,=&?pin-source=:[]@!$'()*+,=/?|"), {
    token: ":[]@!$'()*+,=&",
    pinSource: ":[]@!$'()*+,=/?|",
  });
  t.same(parsePkcs11Uri('PKCS11:object=x'), { object: 'x' }, 'the scheme is case-insensitive (RFC 3986)');
});

// Each malformed URI must fail with the exact message and the position of the problem.
const malformed: readonly [string, string][] = [
  ['pkcs12:token=x', 'invalid pkcs11: URI at position 0: it must start with "pkcs11:"'],
  ['token=x', 'invalid pkcs11: URI at position 0: it must start with "pkcs11:"'],
  [
    'pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b',
    'invalid pkcs11: URI at position 54: unknown path attribute "vendor-aaa" (known: token, manufacturer, model, serial, slot-description, slot-manufacturer, slot-id, library-manufacturer, library-description, library-version, object, type, id)',
  ],
  ['pkcs11:object=a?x-foo=1', 'invalid pkcs11: URI at position 16: unknown query attribute "x-foo" (known: pin-source, pin-value, module-name, module-path)'],
  ['pkcs11:object=a;pin-value=1234', 'invalid pkcs11: URI at position 16: "pin-value" belongs in the query, after "?" and separated by "&"'],
  // "&" is legal in a path value: without this check the PIN would become part of the label.
  ['pkcs11:object=a&pin-value=1234', 'invalid pkcs11: URI at position 16: "pin-value" belongs in the query, after "?" and separated by "&"'],
  ['pkcs11:token=T;object=a&PIN-SOURCE=file:/p', 'invalid pkcs11: URI at position 24: "pin-source" belongs in the query, after "?" and separated by "&"'],
  ['pkcs11:object=a&module-path=/m.so', 'invalid pkcs11: URI at position 16: "module-path" belongs in the query, after "?" and separated by "&"'],
  ['pkcs11:?object=a', 'invalid pkcs11: URI at position 8: "object" belongs in the path, before "?" and separated by ";"'],
  ['pkcs11:token=a;token=b', 'invalid pkcs11: URI at position 15: attribute "token" appears twice'],
  ['pkcs11:token=a;;object=b', 'invalid pkcs11: URI at position 15: empty attribute (a stray ";")'],
  ['pkcs11:token=a;', 'invalid pkcs11: URI at position 15: empty attribute (a stray ";")'],
  ['pkcs11:token', 'invalid pkcs11: URI at position 7: attribute "token" has no "=value"'],
  ['pkcs11:tok en=a', 'invalid pkcs11: URI at position 7: attribute name must be letters, digits, "-" or "_"'],
  ['pkcs11:token=my token', 'invalid pkcs11: URI at position 15: a space must be percent-encoded in token'],
  ['pkcs11:object=a/b', 'invalid pkcs11: URI at position 15: "/" must be percent-encoded in object'],
  ['pkcs11:object=a#b', 'invalid pkcs11: URI at position 15: "#" must be percent-encoded in object'],
  ['pkcs11:object=\u00e1', 'invalid pkcs11: URI at position 14: character U+00E1 must be percent-encoded in object'],
  ['pkcs11:id=%0', 'invalid pkcs11: URI at position 10: "%" in id must be followed by two hex digits'],
  ['pkcs11:id=%zz', 'invalid pkcs11: URI at position 10: "%" in id must be followed by two hex digits'],
  ['pkcs11:object=%C3%28', 'invalid pkcs11: URI at position 14: object is not valid UTF-8 once percent-decoded'],
  ['pkcs11:type=key', 'invalid pkcs11: URI at position 12: type must be one of cert, data, private, public, secret-key'],
  ['pkcs11:slot-id=0x10', 'invalid pkcs11: URI at position 15: slot-id must be a decimal number'],
  ['pkcs11:library-version=1.2.3', 'invalid pkcs11: URI at position 23: library-version must be MAJOR or MAJOR.MINOR (digits)'],
  ['pkcs11:library-version=256', 'invalid pkcs11: URI at position 23: library-version parts must be 0 to 255'],
  ['pkcs11:?pin-value=1&pin-source=file:/p', 'invalid pkcs11: URI at position 8: give either pin-value or pin-source, not both'],
  ['pkcs11:?pin-value=1&pin-value=2', 'invalid pkcs11: URI at position 20: attribute "pin-value" appears twice'],
  ['pkcs11:?pin-value=a&b', 'invalid pkcs11: URI at position 20: attribute "b" has no "=value"'],
  ['pkcs11:?pin-value=a b', 'invalid pkcs11: URI at position 19: a space must be percent-encoded in pin-value'],
];

t.test('malformed URIs are rejected with the position of the error', async (t) => {
  for (const [uri, message] of malformed) {
    t.throws(() => parsePkcs11Uri(uri), { name: 'SignerError', code: 'PKCS11_URI_INVALID', message }, uri);
  }
});

t.test('errors never echo attribute values, so a PIN cannot leak through them', async (t) => {
  for (const uri of ['pkcs11:object=a?pin-value=s3cr3t&pin-value=s3cr3t', 'pkcs11:object=a?pin-value=s3cr3t%zz', 'pkcs11:object=a?pin-value=s3cr3t&x=1', 'pkcs11:object=a&pin-value=s3cr3t']) {
    try {
      parsePkcs11Uri(uri);
      t.fail(`${uri} should not parse`);
    } catch (error) {
      t.ok(error instanceof SignerError);
      t.notMatch((error as Error).message, /s3cr3t/, uri);
    }
  }
});

t.test('redaction removes pin-value and hides pin-source commands', async (t) => {
  t.equal(redactPkcs11Uri(parsePkcs11Uri('pkcs11:token=T;object=k?pin-value=123456&module-path=/m.so')), 'pkcs11:token=T;object=k?module-path=/m.so');
  t.equal(redactPkcs11Uri(parsePkcs11Uri('pkcs11:token=T?pin-source=file:/run/pin')), 'pkcs11:token=T?pin-source=file:/run/pin');
  t.equal(redactPkcs11Uri(parsePkcs11Uri('pkcs11:token=T?pin-source=%7Cecho%20123456')), 'pkcs11:token=T?pin-source=|...');
  t.equal(redactUnparsedPkcs11Uri('pkcs11:token=T?pin-value=1234&zz'), 'pkcs11:token=T?...');
  t.equal(redactUnparsedPkcs11Uri('pkcs11:token=T'), 'pkcs11:token=T');
  t.equal(redactUnparsedPkcs11Uri('pkcs11:token=T;pin-value=1234;object=k?module-path=/m.so'), 'pkcs11:token=T;...', 'a PIN written in the path by mistake');
  t.equal(redactUnparsedPkcs11Uri('pkcs11:token=T;object=k&PIN-SOURCE=|echo%201234'), 'pkcs11:token=T;object=k&...');
});
