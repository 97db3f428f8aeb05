import { AsnConvert } from '@peculiar/asn1-schema';
import type { Name } from '@peculiar/asn1-x509';

/**
 * Short names for the attribute types RFC 4514 lists, plus SERIALNUMBER, the way Go's
 * pkix.Name prints them: the reference helper's output (and its users' scripts) use these.
 */
const ATTRIBUTE_SHORT_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'SERIALNUMBER'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.17', 'POSTALCODE'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
]);

/**
 * RFC 4514 string of a distinguished name: most specific RDN first ("CN=leaf,O=Example,C=US"),
 * multi-valued RDNs joined with "+", special characters escaped. Attribute types without a
 * short name are written as their OID with the value as #hex of its DER, as the RFC requires.
 */
export function formatDistinguishedName(name: Name): string {
  const rdns: string[] = [];
  for (const rdn of name) {
    const parts: string[] = [];
    for (const attribute of rdn) {
      const shortName = ATTRIBUTE_SHORT_NAMES.get(attribute.type);
      const text = shortName === undefined ? undefined : stringValueOf(attribute.value);
      if (shortName !== undefined && text !== undefined) {
        parts.push(`${shortName}=${escapeAttributeValue(text)}`);
      } else {
        const der = new Uint8Array(AsnConvert.serialize(attribute.value));
        parts.push(`${attribute.type}=#${Buffer.from(der).toString('hex')}`);
      }
    }
    rdns.push(parts.join('+'));
  }
  return rdns.reverse().join(',');
}

function stringValueOf(value: { anyValue?: ArrayBuffer; toString(): string }): string | undefined {
  if (value.anyValue !== undefined) return undefined;
  return value.toString();
}

/** RFC 4514 section 2.4. */
export function escapeAttributeValue(value: string): string {
  let escaped = value.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ') && !escaped.endsWith('\\ ')) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}
