import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import t from 'tap';
import { escapeAttributeValue, formatDistinguishedName } from '../../src/certs/name.js';

function rdn(...attributes: Array<[string, Partial<AttributeValue>]>): RelativeDistinguishedName {
  return new RelativeDistinguishedName(attributes.map(([type, value]) => new AttributeTypeAndValue({ type, value: new AttributeValue(value) })));
}

t.test('most specific RDN first, multi-valued RDNs joined with +', async (t) => {
  const name = new Name([
    rdn(['2.5.4.6', { printableString: 'US' }]),
    rdn(['2.5.4.10', { utf8String: 'Example' }]),
    rdn(['2.5.4.11', { utf8String: 'Ops' }], ['0.9.2342.19200300.100.1.1', { utf8String: 'u1' }]),
    rdn(['2.5.4.3', { utf8String: '日本 leaf' }]),
  ]);
  t.equal(formatDistinguishedName(name), 'CN=日本 leaf,OU=Ops+UID=u1,O=Example,C=US');
});

t.test('attribute types without a short name are OID=#hex of the DER value', async (t) => {
  const name = new Name([rdn(['1.2.840.113549.1.9.1', { ia5String: 'a@b.c' }])]);
  t.equal(formatDistinguishedName(name), '1.2.840.113549.1.9.1=#16056140622e63');
});

t.test('an empty name is an empty string', async (t) => {
  t.equal(formatDistinguishedName(new Name([])), '');
});

t.test('RFC 4514 escaping', async (t) => {
  t.equal(escapeAttributeValue('a,b+c"d\\e<f>g;h'), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
  t.equal(escapeAttributeValue('#lead'), '\\#lead');
  t.equal(escapeAttributeValue(' both '), '\\ both\\ ');
  t.equal(escapeAttributeValue('mid#dle'), 'mid#dle');
  t.equal(escapeAttributeValue(' '), '\\ ');
  t.equal(escapeAttributeValue('nul\0'), 'nul\\00');
});
