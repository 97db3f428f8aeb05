import { DER_TAG, decodeDerOid, readDerChildren, readWholeDerElement, type DerElement } from '../asn1/der.js';

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
export function formatDistinguishedName(nameDer: Uint8Array): string {
  const rdns: string[] = [];
  for (const rdn of readDerChildren(readWholeDerElement(nameDer))) {
    const parts: string[] = [];
    for (const attribute of readDerChildren(rdn)) {
      const [typeField, value] = readDerChildren(attribute);
      const type = decodeDerOid(typeField, 'attribute type');
      const shortName = ATTRIBUTE_SHORT_NAMES.get(type);
      const text = shortName === undefined || value === undefined ? undefined : directoryStringText(value);
      if (shortName !== undefined && text !== undefined) {
        parts.push(`${shortName}=${escapeAttributeValue(text)}`);
      } else {
        parts.push(`${type}=#${Buffer.from(value?.encoded ?? []).toString('hex')}`);
      }
    }
    rdns.push(parts.join('+'));
  }
  return rdns.reverse().join(',');
}

const STRING_TAG = Object.freeze({
  TELETEX: 0x14,
  PRINTABLE: 0x13,
  IA5: 0x16,
  UNIVERSAL: 0x1c,
  BMP: 0x1e,
});

/**
 * The text of a DirectoryString (RFC 5280) or IA5String value; undefined for any other type,
 * which is then written as #hex like an unknown attribute.
 */
function directoryStringText(value: DerElement): string | undefined {
  const bytes = Buffer.from(value.value);
  switch (value.tag) {
    case DER_TAG.UTF8_STRING:
      return bytes.toString('utf8');
    case STRING_TAG.PRINTABLE:
    case STRING_TAG.IA5:
    case STRING_TAG.TELETEX:
      return bytes.toString('latin1');
    case STRING_TAG.BMP:
      return bytes.length % 2 === 0 ? Buffer.from(bytes).swap16().toString('utf16le') : undefined;
    case STRING_TAG.UNIVERSAL: {
      if (bytes.length % 4 !== 0) return undefined;
      let text = '';
      for (let i = 0; i < bytes.length; i += 4) {
        const codePoint = bytes.readUInt32BE(i);
        if (codePoint > 0x10ffff) return undefined;
        text += String.fromCodePoint(codePoint);
      }
      return text;
    }
    default:
      return undefined;
  }
}

/** RFC 4514 section 2.4. */
export function escapeAttributeValue(value: string): string {
  let escaped = value.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ') && !escaped.endsWith('\\ ')) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}
