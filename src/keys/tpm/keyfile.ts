import { SignerError, isSignerError } from '../../errors.js';
import { TPM_HT, TPM_RH } from './constants.js';
import {
  DER_TAG,
  decodeDerBoolean,
  decodeDerOid,
  decodeDerSmallInteger,
  describeDerProblem,
  readDerChildren,
  readDerElement,
  type DerElement,
  type DerProblem,
} from '../../asn1/der.js';
import { parsePemBlocks } from '../../certs/pem.js';
import { TpmReader } from './marshal.js';
import { parsePublicArea, type TpmPublicArea } from './public-area.js';

/**
 * TSS2 PRIVATE KEY files (draft-bottomley-tpm2-keys), as written by tpm2-openssl,
 * tpm2-tss-engine, go-tpm-keyfiles and `tpm2_encodeobject`:
 *
 *   TPMKey ::= SEQUENCE {
 *     type        OBJECT IDENTIFIER,
 *     emptyAuth   [0] EXPLICIT BOOLEAN OPTIONAL,
 *     policy      [1] EXPLICIT SEQUENCE OF TPMPolicy OPTIONAL,
 *     secret      [2] EXPLICIT OCTET STRING OPTIONAL,
 *     authPolicy  [3] EXPLICIT SEQUENCE OF TPMAuthPolicy OPTIONAL,
 *     description [4] EXPLICIT UTF8String OPTIONAL,
 *     rsaParent   [5] EXPLICIT BOOLEAN OPTIONAL,
 *     parent      INTEGER,
 *     pubkey      OCTET STRING,   -- TPM2B_PUBLIC, size included
 *     privkey     OCTET STRING }  -- TPM2B_PRIVATE, size included
 *
 * Only loadable keys without policies are supported; everything else is refused by name.
 */
export interface Tss2KeyFile {
  /** True when the key has no password (emptyAuth TRUE). */
  readonly emptyAuth: boolean;
  /** A hierarchy (0x40000001 owner, ...) or a persistent key (0x81xxxxxx). */
  readonly parent: number;
  /** The hierarchy parent is the RSA 2048 storage primary instead of the ECC P-256 one. */
  readonly rsaParent: boolean;
  readonly description?: string;
  /** TPM2B_PUBLIC exactly as stored: TPM2_Load takes it as is. */
  readonly publicBlob: Buffer;
  /** TPM2B_PRIVATE exactly as stored (encrypted by the parent; not a secret on its own). */
  readonly privateBlob: Buffer;
  readonly publicArea: TpmPublicArea;
  /** DER of CERTIFICATE blocks in the same PEM file, in file order: leaf first. */
  readonly certificates: readonly Buffer[];
}

const TSS2_KEY_OID = Object.freeze({
  loadable: '2.23.133.10.1.3',
  importable: '2.23.133.10.1.4',
  sealed: '2.23.133.10.1.5',
  /** Written by early tpm2-tss-engine versions for loadable keys. */
  legacyLoadable: '2.23.133.10.2',
});

const PEM_LABEL = 'TSS2 PRIVATE KEY';
const HIERARCHIES: ReadonlySet<number> = new Set([TPM_RH.OWNER, TPM_RH.ENDORSEMENT, TPM_RH.PLATFORM, TPM_RH.NULL]);

/** Parses a key file's bytes (PEM, or DER of the key alone); `path` is only for messages. */
export function parseTss2KeyFile(content: Uint8Array, path: string): Tss2KeyFile {
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (bytes.length > 0 && bytes[0] === DER_TAG.SEQUENCE) return { ...parseTpmKeyFields(bytes, path), certificates: [] };
  const blocks = parsePemBlocks(bytes.toString('latin1'), { source: path, errorCode: 'TPM_KEYFILE_INVALID' });
  const keyBlocks = blocks.filter((block) => block.label === PEM_LABEL);
  const keyBlock = keyBlocks[0];
  if (keyBlock === undefined) {
    const labels = [...new Set(blocks.map((block) => block.label))];
    const found = labels.length === 0 ? 'no PEM block' : `only ${labels.map((label) => `"${label}"`).join(', ')}`;
    throw new SignerError('TPM_KEYFILE_INVALID', `${path} is not a TPM key file: it holds ${found}, not a "${PEM_LABEL}": give a key made by tpm2-openssl or tpm2_encodeobject, or handle:0x81...`);
  }
  if (keyBlocks.length > 1) {
    throw new SignerError('TPM_KEYFILE_INVALID', `${path} holds ${keyBlocks.length} "${PEM_LABEL}" blocks: keep one key per file`);
  }
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE').map((block) => Buffer.from(block.der));
  return { ...parseTpmKeyFields(Buffer.from(keyBlock.der), path), certificates };
}

function corruptKey(path: string, problem: string, cause?: unknown): SignerError {
  return new SignerError(
    'TPM_KEYFILE_INVALID',
    `${path} holds a TSS2 PRIVATE KEY that is truncated or corrupt (${problem}): copy the file again or re-create the key`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * DER problems worded with the offset (within the enclosing value) so a damaged file can be
 * compared with `openssl asn1parse`.
 */
function describeKeyfileDerProblem(problem: DerProblem): string {
  switch (problem.kind) {
    case 'no element':
    case 'missing length': return `an element header is cut off at offset ${problem.offset}`;
    case 'multi-byte tag': return `multi-byte tag at offset ${problem.offset}`;
    case 'indefinite length': return `indefinite length at offset ${problem.offset}`;
    case 'length too large': return `a length of ${problem.lengthBytes} bytes at offset ${problem.offset}`;
    case 'truncated length': return `a length is cut off at offset ${problem.offset}`;
    case 'past the end': return `an element at offset ${problem.offset} needs ${problem.length} bytes, ${problem.available} left`;
    case 'empty OID': return 'an empty OBJECT IDENTIFIER';
    case 'OID cut off': return 'an OBJECT IDENTIFIER is cut off';
    case 'OID arc too large': return 'an OBJECT IDENTIFIER arc is too large';
    case 'BOOLEAN size': return `a BOOLEAN of ${problem.size} bytes`;
    case 'empty INTEGER': return 'an empty INTEGER';
    case 'negative INTEGER': return 'a negative INTEGER';
    case 'INTEGER too large': return 'an INTEGER larger than 32 bits';
    // Not met here: tags are checked (expectTag) before decoding, and only constructed fields are split.
    default: return describeDerProblem(problem);
  }
}

function parseTpmKeyFields(der: Buffer, path: string): Omit<Tss2KeyFile, 'certificates'> {
  const corrupt = (problem: string): SignerError => corruptKey(path, problem);
  const keyfileDerProblem = (problem: DerProblem): SignerError => corrupt(describeKeyfileDerProblem(problem));
  const outer = readDerElement(der, 0, keyfileDerProblem);
  if (outer.tag !== DER_TAG.SEQUENCE) throw corrupt('it does not start with a SEQUENCE');
  if (outer.encoded.length !== der.length) throw corrupt(`${der.length - outer.encoded.length} byte(s) follow the key`);
  const fields = readDerChildren(outer, keyfileDerProblem);

  let index = 0;
  const next = (): DerElement | undefined => fields[index];
  const typeField = next();
  if (typeField?.tag !== DER_TAG.OID) throw corrupt('no key type OID');
  index++;
  checkKeyType(decodeDerOid(typeField, 'type', keyfileDerProblem), path);

  let emptyAuth = false;
  let rsaParent = false;
  let description: string | undefined;
  for (let field = next(); field !== undefined && (field.tag & 0xe0) === 0xa0; field = next()) {
    const number = field.tag & 0x1f;
    const inner = explicitInner(field, corrupt);
    switch (number) {
      case 0:
        emptyAuth = decodeDerBoolean(expectTag(inner, DER_TAG.BOOLEAN, 'emptyAuth', corrupt), 'emptyAuth', keyfileDerProblem);
        break;
      case 1:
        throw unsupported(path, 'is bound to a TPM policy (the [1] policy field), e.g. PCR values');
      case 2:
        throw unsupported(path, 'carries an import secret (the [2] secret field) of a key that must be imported first');
      case 3:
        throw unsupported(path, 'carries signed authorization policies (the [3] authPolicy field)');
      case 4:
        description = Buffer.from(expectTag(inner, DER_TAG.UTF8_STRING, 'description', corrupt).value).toString('utf8');
        break;
      case 5:
        rsaParent = decodeDerBoolean(expectTag(inner, DER_TAG.BOOLEAN, 'rsaParent', corrupt), 'rsaParent', keyfileDerProblem);
        break;
      default:
        throw unsupported(path, `has an optional field [${number}] that this version does not know`);
    }
    index++;
  }

  const parentField = expectTag(next(), DER_TAG.INTEGER, 'parent', corrupt);
  index++;
  const publicField = expectTag(next(), DER_TAG.OCTET_STRING, 'pubkey', corrupt);
  index++;
  const privateField = expectTag(next(), DER_TAG.OCTET_STRING, 'privkey', corrupt);
  index++;
  if (index !== fields.length) throw corrupt(`${fields.length - index} unexpected field(s) after privkey`);

  const parent = decodeDerSmallInteger(parentField, 'parent', 0xffff_ffff, keyfileDerProblem);
  checkParent(parent, path);
  const publicBlob = Buffer.from(publicField.value);
  const privateBlob = Buffer.from(privateField.value);
  const publicArea = parsePublicBlob(publicBlob, path);
  checkSized(privateBlob, 'privkey', corrupt);
  return { emptyAuth, parent, rsaParent, ...(description !== undefined ? { description } : {}), publicBlob, privateBlob, publicArea };
}

function checkKeyType(oid: string, path: string): void {
  if (oid === TSS2_KEY_OID.loadable || oid === TSS2_KEY_OID.legacyLoadable) return;
  if (oid === TSS2_KEY_OID.importable) {
    throw unsupported(path, `is an importable key (${oid}) that must go through TPM2_Import first; only loadable keys (${TSS2_KEY_OID.loadable}) are supported`);
  }
  if (oid === TSS2_KEY_OID.sealed) {
    throw unsupported(path, `holds sealed data (${oid}), not a signing key`);
  }
  throw new SignerError('TPM_KEYFILE_INVALID', `${path} is not a TPM 2.0 key: its type OID is ${oid}, not ${TSS2_KEY_OID.loadable}`);
}

function checkParent(parent: number, path: string): void {
  if (HIERARCHIES.has(parent) || parent >>> 24 === TPM_HT.PERSISTENT) return;
  throw new SignerError(
    'TPM_KEYFILE_INVALID',
    `${path} names parent 0x${parent.toString(16).padStart(8, '0')}, which is neither a hierarchy nor a persistent key (0x81xxxxxx): re-create the key under the owner hierarchy or a persistent parent`,
  );
}

function parsePublicBlob(blob: Buffer, path: string): TpmPublicArea {
  try {
    const reader = new TpmReader(blob, { what: 'pubkey (TPM2B_PUBLIC)', code: 'TPM_KEYFILE_INVALID' });
    const area = reader.sized();
    reader.end();
    return parsePublicArea(area, { what: 'the public area (TPMT_PUBLIC)', code: 'TPM_KEYFILE_INVALID' });
  } catch (error) {
    // The TPM structure readers do not know the file: damaged bytes, or a key type we refuse.
    if (!isSignerError(error)) throw error;
    if (error.code === 'TPM_KEYFILE_INVALID') throw corruptKey(path, error.message, error);
    throw new SignerError(error.code, `${path}: ${error.message}`, { cause: error });
  }
}

function checkSized(blob: Buffer, field: string, corrupt: (problem: string) => SignerError): void {
  if (blob.length < 2 || blob.readUInt16BE(0) !== blob.length - 2) throw corrupt(`${field} is not a TPM2B of its own length`);
}

function explicitInner(field: DerElement, corrupt: (problem: string) => SignerError): DerElement {
  const children = readDerChildren(field, (problem) => corrupt(describeKeyfileDerProblem(problem)));
  const inner = children[0];
  if (inner === undefined || children.length !== 1) throw corrupt(`field [${field.tag & 0x1f}] does not hold exactly one value`);
  return inner;
}

function expectTag(field: DerElement | undefined, tag: number, name: string, corrupt: (problem: string) => SignerError): DerElement {
  if (field === undefined) throw corrupt(`${name} is missing`);
  if (field.tag !== tag) throw corrupt(`${name} has ASN.1 tag 0x${field.tag.toString(16)}`);
  return field;
}

function unsupported(path: string, what: string): SignerError {
  return new SignerError('NOT_SUPPORTED', `${path} ${what}, which is not supported: create a plain loadable key (tpm2-openssl genpkey, no policy)`);
}
