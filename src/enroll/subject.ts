import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { SignerError } from '../errors.js';

/** The attribute types `--subject` accepts, by the short names certs/name.ts prints. */
const ATTRIBUTE_OIDS: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  CN: '2.5.4.3',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  POSTALCODE: '2.5.4.17',
  UID: '0.9.2342.19200300.100.1.1',
  DC: '0.9.2342.19200300.100.1.25',
}));

// X.520: countryName and serialNumber are PrintableString; DC is IA5String; the rest UTF8String.
const PRINTABLE = new Set(['2.5.4.6', '2.5.4.5']);
const IA5 = new Set(['0.9.2342.19200300.100.1.25']);

export interface SubjectAttribute {
  readonly type: string;
  readonly value: string;
}

/**
 * Parses an RFC 4514 string ("CN=build-01,O=Example,C=US", most specific first, `\,` and `\+`
 * escapes, `+` for multi-valued RDNs) into RDNs in encoding order (least specific first), the
 * exact inverse of formatDistinguishedName, so a certificate issued for the request prints the
 * subject the user typed. Pure.
 */
export function parseSubject(text: string): SubjectAttribute[][] {
  const fail = (why: string): SignerError =>
    new SignerError('USAGE', `--subject ${JSON.stringify(text)} is not a distinguished name (${why}): write it as "CN=name,O=Organisation,C=US" (types: ${Object.keys(ATTRIBUTE_OIDS).join(', ')})`);
  const rdns: SubjectAttribute[][] = [];
  let current: SubjectAttribute[] = [];
  // One attribute's characters, each marked escaped or not: separators and the trimming of
  // spaces apply only to characters that were not escaped.
  let chars: { readonly c: string; readonly escaped: boolean }[] = [];
  const finishAttribute = (): void => {
    const equals = chars.findIndex((ch) => ch.c === '=' && !ch.escaped);
    const typed = chars.slice(0, Math.max(equals, 0)).map((ch) => ch.c).join('').trim();
    if (equals <= 0 || typed === '') throw fail(`"${chars.map((ch) => ch.c).join('').trim()}" has no TYPE=value`);
    const name = typed.toUpperCase();
    const type = ATTRIBUTE_OIDS[name];
    if (type === undefined) throw fail(`unknown attribute type ${typed}`);
    const valueChars = chars.slice(equals + 1);
    while (valueChars.length > 0 && valueChars[0]?.c === ' ' && valueChars[0].escaped === false) valueChars.shift();
    while (valueChars.length > 0 && valueChars.at(-1)?.c === ' ' && valueChars.at(-1)?.escaped === false) valueChars.pop();
    const value = valueChars.map((ch) => ch.c).join('');
    if (value === '') throw fail(`${name} is empty`);
    if (type === '2.5.4.6' && !/^[A-Z]{2}$/.test(value)) throw fail('C is a two-letter country code such as US');
    if (PRINTABLE.has(type) && !/^[A-Za-z0-9 '()+,\-./:=?]+$/.test(value)) throw fail(`${name} allows only letters, digits, spaces and '()+,-./:=?`);
    current.push({ type, value });
    chars = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw fail('it ends with a lone backslash');
      chars.push({ c: next, escaped: true });
      i++;
    } else if (c === '+') {
      finishAttribute();
    } else if (c === ',') {
      finishAttribute();
      rdns.push(current);
      current = [];
    } else {
      chars.push({ c, escaped: false });
    }
  }
  finishAttribute();
  rdns.push(current);
  if (!rdns.some((rdn) => rdn.some((attribute) => attribute.type === '2.5.4.3'))) {
    throw fail('it has no CN; the service names sessions after the CN (sourceIdentity)');
  }
  return rdns.reverse();
}

/** DER of the X.501 Name for the parsed RDNs. */
export function encodeSubject(rdns: readonly (readonly SubjectAttribute[])[]): Uint8Array {
  const name = new Name(
    rdns.map(
      (rdn) =>
        new RelativeDistinguishedName(
          rdn.map((attribute) => new AttributeTypeAndValue({ type: attribute.type, value: attributeValue(attribute) })),
        ),
    ),
  );
  return new Uint8Array(AsnConvert.serialize(name));
}

function attributeValue(attribute: SubjectAttribute): AttributeValue {
  if (PRINTABLE.has(attribute.type)) return new AttributeValue({ printableString: attribute.value });
  if (IA5.has(attribute.type)) return new AttributeValue({ ia5String: attribute.value });
  return new AttributeValue({ utf8String: attribute.value });
}
