import t from 'tap';
import { formatDistinguishedName } from '../../src/certs/name.js';
import { encodeSubject, parseSubject } from '../../src/enroll/subject.js';

function roundTrip(text: string): string {
  return formatDistinguishedName(encodeSubject(parseSubject(text)));
}

t.test('a subject prints back as typed (the inverse of formatDistinguishedName)', async (t) => {
  for (const text of ['CN=build-01', 'CN=build-01,O=Example,C=US', 'CN=a\\,b,OU=Ops+UID=u1,DC=example,DC=com', 'CN=日本 leaf,ST=Bavaria,L=Munich']) {
    t.equal(roundTrip(text), text, text);
  }
});

t.test('RDNs are encoded least specific first, with X.520 string types', async (t) => {
  const rdns = parseSubject('CN=x, O = Example ,C=US');
  t.same(rdns, [[{ type: '2.5.4.6', value: 'US' }], [{ type: '2.5.4.10', value: 'Example' }], [{ type: '2.5.4.3', value: 'x' }]]);
  const der = Buffer.from(encodeSubject(rdns)).toString('hex');
  t.match(der, /060355040613025553/, 'C is a PrintableString (tag 13)');
  t.match(der, /060355040a0c074578616d706c65/, 'O is a UTF8String (tag 0c)');
});

t.test('escaped spaces survive trimming; lower-case types are accepted', async (t) => {
  t.same(parseSubject('cn=\\ padded\\ '), [[{ type: '2.5.4.3', value: ' padded ' }]]);
});

t.test('bad subjects are usage errors that say how to write one', async (t) => {
  const hint = 'write it as "CN=name,O=Organisation,C=US" (types: CN, SERIALNUMBER, C, L, ST, STREET, O, OU, POSTALCODE, UID, DC)';
  const cases: [string, string][] = [
    ['build-01', '"build-01" has no TYPE=value'],
    ['CN=x,FOO=y', 'unknown attribute type FOO'],
    ['CN=', 'CN is empty'],
    ['CN=x,C=USA', 'C is a two-letter country code such as US'],
    ['O=Example', 'it has no CN; the service names sessions after the CN (sourceIdentity)'],
    ['CN=x\\', 'it ends with a lone backslash'],
  ];
  for (const [text, why] of cases) {
    t.throws(() => parseSubject(text), { name: 'SignerError', code: 'USAGE', message: `--subject ${JSON.stringify(text)} is not a distinguished name (${why}): ${hint}` }, text);
  }
});
