import { randomBytes, type KeyObject } from 'node:crypto';
import type * as Pkcs11js from 'pkcs11js';
import { loadPkcs11Binding, type Pkcs11Binding } from '../keys/pkcs11/binding.js';
import { SignerError } from '../errors.js';
import { ecPublicKeyFromAttributes, rsaPublicKeyFromAttributes } from '../keys/pkcs11/public-key.js';
import { formatPkcs11Uri } from '../keys/pkcs11/uri.js';
import type { EnrollKeyType } from './key-types.js';
import { ckrOf, deviceError, findObjectHandles, readAttribute, readBoolean, type TokenSession } from './pkcs11-device.js';

// Named-curve OIDs as DER, the form CKA_EC_PARAMS takes (PKCS#11 2.40 section 2.3.3).
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
const P384_PARAMS = Buffer.from('06052b81040022', 'hex');
const RSA_PUBLIC_EXPONENT = Buffer.from([0x01, 0x00, 0x01]);

export interface GeneratedTokenKey {
  readonly id: Uint8Array;
  readonly label: string;
  readonly publicKey: KeyObject;
  /** URI of the private key: token, object, id, type=private. */
  readonly uri: string;
  /** What the token reports about the private key, read back after generation. */
  readonly attributes: {
    readonly sensitive: boolean | undefined;
    readonly extractable: boolean | undefined;
    readonly alwaysSensitive: boolean | undefined;
    readonly neverExtractable: boolean | undefined;
    readonly local: boolean | undefined;
  };
  /** Removes both halves again, when a later step of enrolment fails. */
  destroy(): void;
}

/**
 * Generates a key pair inside the token: the private half is a token object, private,
 * sensitive, never extractable and usable only to sign. The label and id must be new on the
 * token (any object class): reusing them would make URIs ambiguous or pair the key with an old
 * certificate. When not given, the id is 8 random bytes and the label names the id.
 */
export function generateTokenKeyPair(token: TokenSession, options: { readonly keyType: EnrollKeyType; readonly label?: string; readonly id?: Uint8Array }): GeneratedTokenKey {
  const piv = isYkcs11(token.modulePath);
  if (piv) refuseNonPivRequest(options);
  const id = Buffer.from(options.id ?? randomBytes(8));
  if (id.length === 0) throw new SignerError('USAGE', 'the id in the key URI is empty: write id=%01 (or leave it out to have one chosen)');
  const label = options.label ?? `roles-anywhere-${id.toString('hex')}`;
  refuseExisting(token, label, id);

  const isEc = options.keyType.startsWith('ec-');
  const keyType = isEc ? binding().CKK_EC : binding().CKK_RSA;
  const common: Pkcs11js.Template = [
    { type: binding().CKA_TOKEN, value: true },
    { type: binding().CKA_LABEL, value: label },
    { type: binding().CKA_ID, value: id },
    { type: binding().CKA_KEY_TYPE, value: keyType },
  ];
  const publicTemplate: Pkcs11js.Template = [
    ...common,
    { type: binding().CKA_CLASS, value: binding().CKO_PUBLIC_KEY },
    { type: binding().CKA_PRIVATE, value: false },
    { type: binding().CKA_VERIFY, value: true },
    ...(isEc
      ? [{ type: binding().CKA_EC_PARAMS, value: options.keyType === 'ec-p256' ? P256_PARAMS : P384_PARAMS }]
      : [
          { type: binding().CKA_MODULUS_BITS, value: options.keyType === 'rsa-2048' ? 2048 : 3072 },
          { type: binding().CKA_PUBLIC_EXPONENT, value: RSA_PUBLIC_EXPONENT },
        ]),
  ];
  const privateTemplate: Pkcs11js.Template = [
    ...common,
    { type: binding().CKA_CLASS, value: binding().CKO_PRIVATE_KEY },
    { type: binding().CKA_PRIVATE, value: true },
    { type: binding().CKA_SENSITIVE, value: true },
    // ykcs11 refuses the attribute (CKR_ATTRIBUTE_TYPE_INVALID); PIV has no command that reads a private key out.
    ...(piv ? [] : [{ type: binding().CKA_EXTRACTABLE, value: false }]),
    { type: binding().CKA_SIGN, value: true },
    { type: binding().CKA_DECRYPT, value: false },
    { type: binding().CKA_UNWRAP, value: false },
    { type: binding().CKA_DERIVE, value: false },
  ];
  const mechanism = { mechanism: isEc ? binding().CKM_EC_KEY_PAIR_GEN : binding().CKM_RSA_PKCS_KEY_PAIR_GEN };
  let pair: Pkcs11js.KeyPair;
  try {
    pair = token.lib.C_GenerateKeyPair(token.session, mechanism, publicTemplate, privateTemplate);
  } catch (cause) {
    if (piv && ckrOf(cause) === 'CKR_USER_TYPE_INVALID') {
      throw new SignerError('NOT_SUPPORTED', `ykcs11 generates a PIV key only in a session logged in with the card's management key (CKU_SO), and enroll logs in with the PIN: nothing was generated; generate the key and its request with ykman instead (\`ykman piv keys generate\`, \`ykman piv certificates request\`, see docs/yubikey.md#enrolling-a-key-on-a-yubikey)`, { cause });
    }
    if (ckrOf(cause) === 'CKR_FUNCTION_NOT_SUPPORTED') {
      throw new SignerError('NOT_SUPPORTED', `${token.modulePath} does not generate keys on token "${token.token.label}" (CKR_FUNCTION_NOT_SUPPORTED; OpenSC, for one, shows PIV cards read-only): nothing was generated; generate the key with the card's own tool (YubiKey: \`ykman piv keys generate\`, see docs/yubikey.md#enrolling-a-key-on-a-yubikey)`, { cause });
    }
    throw deviceError(`generating a ${options.keyType} key pair`, token.where, cause);
  }
  const destroy = (): void => {
    for (const handle of [pair.privateKey, pair.publicKey]) {
      try {
        token.lib.C_DestroyObject(token.session, handle);
      } catch {
        // best effort: the message that follows names the key to delete by hand
      }
    }
  };
  try {
    const publicKey = isEc
      ? ecPublicKeyFromAttributes(required(token, pair.publicKey, binding().CKA_EC_PARAMS), required(token, pair.publicKey, binding().CKA_EC_POINT))
      : rsaPublicKeyFromAttributes(required(token, pair.publicKey, binding().CKA_MODULUS), required(token, pair.publicKey, binding().CKA_PUBLIC_EXPONENT));
    return {
      id,
      label,
      publicKey,
      uri: formatPkcs11Uri({ ...token.tokenUri, object: label, type: 'private', id }),
      attributes: {
        sensitive: readBoolean(token, pair.privateKey, binding().CKA_SENSITIVE),
        extractable: readBoolean(token, pair.privateKey, binding().CKA_EXTRACTABLE),
        alwaysSensitive: readBoolean(token, pair.privateKey, binding().CKA_ALWAYS_SENSITIVE),
        neverExtractable: readBoolean(token, pair.privateKey, binding().CKA_NEVER_EXTRACTABLE),
        local: readBoolean(token, pair.privateKey, binding().CKA_LOCAL),
      },
      destroy,
    };
  } catch (error) {
    destroy();
    throw error;
  }
}

/** ykcs11 (Yubico's PIV module) names its key slots by CKA_ID and has fixed labels. */
function isYkcs11(modulePath: string): boolean {
  return /ykcs11/i.test(modulePath.slice(modulePath.lastIndexOf('/') + 1));
}

/** PIV slots as ykcs11 numbers them: 9a 9c 9d 9e are 01 to 04, the retired 82 to 95 are 05 to 18 (hex). */
const PIV_KEY_IDS = new Set(Array.from({ length: 0x18 }, (_, index) => index + 1));

/** What a PIV slot can hold at all (ykcs11: EC P-256/P-384, RSA 1024/2048), checked before the card is asked. */
function refuseNonPivRequest(options: { readonly keyType: EnrollKeyType; readonly id?: Uint8Array }): void {
  const id = options.id;
  if (id === undefined || id.length !== 1 || !PIV_KEY_IDS.has(id[0] as number)) {
    throw new SignerError('USAGE', 'ykcs11 names the PIV key slots by id: write id=%01 (slot 9a), %02 (9c), %03 (9d), %04 (9e), or %05 to %18 (retired slots 82 to 95) in the key URI; nothing was generated');
  }
  if (options.keyType === 'rsa-3072') {
    throw new SignerError('USAGE', 'a PIV slot holds EC P-256, EC P-384 or RSA 2048 keys, not RSA 3072: choose --key-type ec-p256, ec-p384 or rsa-2048; nothing was generated');
  }
}

function refuseExisting(token: TokenSession, label: string, id: Buffer): void {
  const byLabel = findObjectHandles(token, [{ type: binding().CKA_LABEL, value: label }]);
  if (byLabel.length > 0) {
    throw new SignerError('PKCS11_OBJECT_EXISTS', `token "${token.token.label}" already holds ${byLabel.length} object(s) labelled "${label}": choose another object= in the URI (see \`roles-anywhere-signer list --login\`); nothing was generated`);
  }
  const byId = findObjectHandles(token, [{ type: binding().CKA_ID, value: id }]);
  if (byId.length > 0) {
    throw new SignerError('PKCS11_OBJECT_EXISTS', `token "${token.token.label}" already holds ${byId.length} object(s) with id ${formatPkcs11Uri({ id }).slice('pkcs11:id='.length)}: choose another id= in the URI, or leave it out to have one chosen; nothing was generated`);
  }
}

function required(token: TokenSession, object: Buffer, type: number): Buffer {
  const value = readAttribute(token, object, type);
  if (value === undefined || value.length === 0) {
    throw new SignerError('PKCS11_DEVICE_ERROR', `the token did not return the public key it generated (attribute 0x${type.toString(16)}): the key was removed again; retry with --debug`);
  }
  return value;
}

/** The pkcs11js binding, loaded on first use (a clear PKCS11_UNAVAILABLE error when it is not installed). */
function binding(): Pkcs11Binding {
  return loadPkcs11Binding();
}
