import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import t from 'tap';
import { escapeAttributeValue, formatDistinguishedName } from '../../src/certs/name.js';

function rdn(...attributes: Array<[string, Partial<AttributeValue>]>): RelativeDistinguishedName {
  return new RelativeDistinguishedName(attributes.map(([type, value]) => new AttributeTypeAndValue({ type, value: new AttributeValue(value) })));
}

/** The names are built with the ASN.1 schema package: an encoder independent of the DER reader under test. */
function der(name: Name): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(name));
}

t.test('most specific RDN first, multi-valued RDNs joined with +', async (t) => {
  const name = new Name([
    rdn(['2.5.4.6', { printableString: 'US' }]),
    rdn(['2.5.4.10', { utf8String: 'Example' }]),
    rdn(['2.5.4.11', { utf8String: 'Ops' }], ['0.9.2342.19200300.100.1.1', { utf8String: 'u1' }]),
    rdn(['2.5.4.3', { utf8String: '日本 leaf' }]),
  ]);
  t.equal(formatDistinguishedName(der(name)), 'CN=日本 leaf,OU=Ops+UID=u1,O=Example,C=US');
});

t.test('attribute types without a short name are OID=#hex of the DER value', async (t) => {
  const name = new Name([rdn(['1.2.840.113549.1.9.1', { ia5String: 'a@b.c' }])]);
  t.equal(formatDistinguishedName(der(name)), '1.2.840.113549.1.9.1=#16056140622e63');
});

t.test('an empty name is an empty string', async (t) => {
  t.equal(formatDistinguishedName(der(new Name([]))), '');
});

t.test('BMPString and UniversalString values are decoded; other string types are #hex', async (t) => {
  const name = new Name([
    rdn(['2.5.4.10', { bmpString: 'Ünï' }]),
    rdn(['2.5.4.11', { universalString: 'ops😀' }]),
  ]);
  t.equal(formatDistinguishedName(der(name)), 'OU=ops😀,O=Ünï');
  // NumericString (0x12) is no DirectoryString: SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, NumericString "12" } } }
  const numeric = Uint8Array.from([0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x12, 0x02, 0x31, 0x32]);
  t.equal(formatDistinguishedName(numeric), '2.5.4.3=#12023132');
});

t.test('RFC 4514 escaping', async (t) => {
  t.equal(escapeAttributeValue('a,b+c"d\\e<f>g;h'), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
  t.equal(escapeAttributeValue('#lead'), '\\#lead');
  t.equal(escapeAttributeValue(' both '), '\\ both\\ ');
  t.equal(escapeAttributeValue('mid#dle'), 'mid#dle');
  t.equal(escapeAttributeValue(' '), '\\ ');
  t.equal(escapeAttributeValue('nul\0'), 'nul\\00');
});
