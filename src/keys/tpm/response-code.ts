/**
 * Turns a TPM 2.0 response code into words (TPM 2.0 Library Part 2, 6.6). Format-1 codes carry
 * the number of the handle, session or parameter at fault; format-0 codes are plain errors or,
 * with the S bit, warnings the caller may retry.
 */

export interface DecodedResponseCode {
  readonly rc: number;
  /** The code without its handle/session/parameter number: compare this to TPM_RC values. */
  readonly base: number;
  /** The spec's name, e.g. TPM_RC_AUTH_FAIL; TPM_RC_0x... when the code is not in our table. */
  readonly name: string;
  readonly kind: 'error' | 'warning' | 'tpm1.2' | 'vendor' | 'software-layer';
  /** 1-based number of the handle, session or parameter the TPM blames (format-1 codes only). */
  readonly handle?: number;
  readonly session?: number;
  readonly parameter?: number;
  /** One line for messages: `TPM_RC_AUTH_FAIL (0x98e, session 1): the authorization ...`. */
  readonly text: string;
}

/** TPM_RC values this project reacts to; the rest only get a name and a description. */
export const TPM_RC = Object.freeze({
  SUCCESS: 0x000,
  INITIALIZE: 0x100,
  FAILURE: 0x101,
  AUTH_MISSING: 0x125,
  POLICY: 0x126,
  ATTRIBUTES: 0x082,
  HASH: 0x083,
  VALUE: 0x084,
  KEY_SIZE: 0x087,
  TYPE: 0x08a,
  HANDLE: 0x08b,
  AUTH_FAIL: 0x08e,
  SCHEME: 0x092,
  SIZE: 0x095,
  INTEGRITY: 0x09f,
  BAD_AUTH: 0x0a2,
  CURVE: 0x0a6,
  OBJECT_MEMORY: 0x902,
  YIELDED: 0x908,
  CANCELED: 0x909,
  TESTING: 0x90a,
  REFERENCE_H0: 0x910,
  LOCKOUT: 0x921,
  RETRY: 0x922,
  NV_UNAVAILABLE: 0x923,
});

const RC_FMT1 = 0x080;
const RC_VER1 = 0x100;
const RC_VENDOR = 0x400;
const RC_WARN = 0x800;

// Descriptions are ours, shortened from Part 2 table 16.
const KNOWN: ReadonlyMap<number, readonly [name: string, description: string]> = new Map([
  [0x100, ['TPM_RC_INITIALIZE', 'the TPM has not been started with TPM2_Startup, or was started already']],
  [0x101, ['TPM_RC_FAILURE', 'the TPM is in failure mode']],
  [0x103, ['TPM_RC_SEQUENCE', 'improper use of a sequence handle']],
  [0x10b, ['TPM_RC_PRIVATE', 'the private area of the object is not usable']],
  [0x119, ['TPM_RC_HMAC', 'missing or invalid HMAC']],
  [0x120, ['TPM_RC_DISABLED', 'the command is disabled']],
  [0x121, ['TPM_RC_EXCLUSIVE', 'the command failed because an audit sequence is exclusive']],
  [0x124, ['TPM_RC_AUTH_TYPE', 'the authorization handle is not correct for the command']],
  [0x125, ['TPM_RC_AUTH_MISSING', 'the command requires an authorization session']],
  [0x126, ['TPM_RC_POLICY', 'the policy failure in math operation or an invalid authPolicy value']],
  [0x127, ['TPM_RC_PCR', 'PCR check failed']],
  [0x128, ['TPM_RC_PCR_CHANGED', 'PCRs changed since the policy was checked']],
  [0x12d, ['TPM_RC_UPGRADE', 'the TPM is in field upgrade mode']],
  [0x12e, ['TPM_RC_TOO_MANY_CONTEXTS', 'context ID counter is at maximum']],
  [0x12f, ['TPM_RC_AUTH_UNAVAILABLE', 'authValue or authPolicy is not available for the selected entity']],
  [0x130, ['TPM_RC_REBOOT', 'a _TPM_Init and Startup(CLEAR) is required']],
  [0x131, ['TPM_RC_UNBALANCED', 'the protection algorithms (hash and symmetric) are not reasonably balanced']],
  [0x142, ['TPM_RC_COMMAND_SIZE', 'the command size does not match the bytes sent']],
  [0x143, ['TPM_RC_COMMAND_CODE', 'the command code is not supported']],
  [0x144, ['TPM_RC_AUTHSIZE', 'the authorization size is out of range or does not match the number of handles']],
  [0x145, ['TPM_RC_AUTH_CONTEXT', 'use of an authorization session with a command that cannot have one']],
  [0x150, ['TPM_RC_BAD_CONTEXT', 'the context is not valid']],
  [0x152, ['TPM_RC_PARENT', 'the handle is not a valid parent']],
  [0x153, ['TPM_RC_NEEDS_TEST', 'some function needs testing']],
  [0x154, ['TPM_RC_NO_RESULT', 'an internal function cannot produce a result']],
  [0x155, ['TPM_RC_SENSITIVE', 'the sensitive area did not unmarshal correctly after decryption']],
  [0x081, ['TPM_RC_ASYMMETRIC', 'asymmetric algorithm not supported or not correct']],
  [0x082, ['TPM_RC_ATTRIBUTES', 'inconsistent attributes']],
  [0x083, ['TPM_RC_HASH', 'hash algorithm not supported or not appropriate']],
  [0x084, ['TPM_RC_VALUE', 'value is out of range or not correct for the context']],
  [0x085, ['TPM_RC_HIERARCHY', 'the hierarchy is not enabled or not correct for the use']],
  [0x087, ['TPM_RC_KEY_SIZE', 'the key size is not supported']],
  [0x088, ['TPM_RC_MGF', 'mask generation function not supported']],
  [0x089, ['TPM_RC_MODE', 'mode of operation not supported']],
  [0x08a, ['TPM_RC_TYPE', 'the type of the handle is not correct for the use']],
  [0x08b, ['TPM_RC_HANDLE', 'the handle is not correct for the use (no such object)']],
  [0x08c, ['TPM_RC_KDF', 'unsupported key derivation function']],
  [0x08d, ['TPM_RC_RANGE', 'value was out of allowed range']],
  [0x08e, ['TPM_RC_AUTH_FAIL', 'the authorization check failed (wrong password) and the dictionary-attack counter was incremented']],
  [0x08f, ['TPM_RC_NONCE', 'invalid nonce size or nonce value mismatch']],
  [0x090, ['TPM_RC_PP', 'authorization requires assertion of physical presence']],
  [0x092, ['TPM_RC_SCHEME', 'unsupported or incompatible scheme']],
  [0x095, ['TPM_RC_SIZE', 'structure is the wrong size']],
  [0x096, ['TPM_RC_SYMMETRIC', 'unsupported symmetric algorithm or key size']],
  [0x097, ['TPM_RC_TAG', 'incorrect structure tag']],
  [0x098, ['TPM_RC_SELECTOR', 'union selector is incorrect']],
  [0x09a, ['TPM_RC_INSUFFICIENT', 'the TPM was unable to unmarshal a value because there were not enough bytes']],
  [0x09b, ['TPM_RC_SIGNATURE', 'the signature is not valid']],
  [0x09c, ['TPM_RC_KEY', 'key fields are not compatible with the selected use']],
  [0x09d, ['TPM_RC_POLICY_FAIL', 'a policy check failed']],
  [0x09f, ['TPM_RC_INTEGRITY', 'integrity check failed (the object does not belong under this parent or TPM)']],
  [0x0a0, ['TPM_RC_TICKET', 'invalid ticket']],
  [0x0a1, ['TPM_RC_RESERVED_BITS', 'reserved bits not set to zero as required']],
  [0x0a2, ['TPM_RC_BAD_AUTH', 'authorization failure without dictionary-attack implications']],
  [0x0a3, ['TPM_RC_EXPIRED', 'the policy has expired']],
  [0x0a4, ['TPM_RC_POLICY_CC', 'the command code in the policy is not the command being run']],
  [0x0a5, ['TPM_RC_BINDING', 'public and sensitive portions of an object are not cryptographically bound']],
  [0x0a6, ['TPM_RC_CURVE', 'curve not supported']],
  [0x0a7, ['TPM_RC_ECC_POINT', 'point is not on the required curve']],
  [0x901, ['TPM_RC_CONTEXT_GAP', 'gap for context ID is too large']],
  [0x902, ['TPM_RC_OBJECT_MEMORY', 'out of memory for object contexts (too many transient objects loaded)']],
  [0x903, ['TPM_RC_SESSION_MEMORY', 'out of memory for session contexts']],
  [0x904, ['TPM_RC_MEMORY', 'out of shared object/session memory']],
  [0x905, ['TPM_RC_SESSION_HANDLES', 'out of session handles']],
  [0x906, ['TPM_RC_OBJECT_HANDLES', 'out of object handles']],
  [0x907, ['TPM_RC_LOCALITY', 'bad locality']],
  [0x908, ['TPM_RC_YIELDED', 'the TPM has suspended operation on the command; resend it']],
  [0x909, ['TPM_RC_CANCELED', 'the command was canceled']],
  [0x90a, ['TPM_RC_TESTING', 'the TPM is performing self-tests']],
  [0x910, ['TPM_RC_REFERENCE_H0', 'the 1st handle references a transient object or session that is not loaded']],
  [0x911, ['TPM_RC_REFERENCE_H1', 'the 2nd handle references a transient object or session that is not loaded']],
  [0x918, ['TPM_RC_REFERENCE_S0', 'the 1st authorization session handle references a session that is not loaded']],
  [0x920, ['TPM_RC_NV_RATE', 'the TPM is rate-limiting accesses to prevent wearout of NV']],
  [0x921, ['TPM_RC_LOCKOUT', 'authorizations for objects subject to dictionary-attack protection are not allowed: the TPM is in lockout']],
  [0x922, ['TPM_RC_RETRY', 'the TPM was not able to start the command; retry it']],
  [0x923, ['TPM_RC_NV_UNAVAILABLE', 'the command may require writing of NV and NV is not accessible']],
]);

const hex = (value: number): string => `0x${value.toString(16)}`;

export function decodeResponseCode(rc: number): DecodedResponseCode {
  const code = rc >>> 0;
  const layer = (code >>> 16) & 0xff;
  if (layer !== 0) {
    // Codes with layer bits come from software between us and the TPM (e.g. a resource manager).
    const text = `response code ${hex(code)} from software layer ${layer}, not from the TPM itself`;
    return { rc: code, base: code, name: `TSS2_RC_${hex(code)}`, kind: 'software-layer', text };
  }
  if ((code & RC_FMT1) !== 0) {
    const base = RC_FMT1 | (code & 0x3f);
    const number = (code >>> 8) & 0x7;
    let where: { handle?: number; session?: number; parameter?: number } = {};
    if ((code & 0x40) !== 0) where = { parameter: (code >>> 8) & 0xf };
    else if ((code & 0x800) !== 0) where = { session: number };
    else if (number !== 0) where = { handle: number };
    const [name, description] = KNOWN.get(base) ?? [`TPM_RC_${hex(base)}`, 'unknown format-1 error'];
    const position =
      where.parameter !== undefined ? `, parameter ${where.parameter}`
      : where.session !== undefined ? `, session ${where.session}`
      : where.handle !== undefined ? `, handle ${where.handle}`
      : '';
    return { rc: code, base, name, kind: 'error', ...where, text: `${name} (${hex(code)}${position}): ${description}` };
  }
  if ((code & RC_VER1) === 0) {
    return { rc: code, base: code, name: `TPM_RC_${hex(code)}`, kind: 'tpm1.2', text: `TPM 1.2 response code ${hex(code)}: the TPM did not accept the command as TPM 2.0` };
  }
  if ((code & RC_VENDOR) !== 0) {
    return { rc: code, base: code, name: `TPM_RC_${hex(code)}`, kind: 'vendor', text: `vendor-defined response code ${hex(code)}` };
  }
  const kind = (code & RC_WARN) !== 0 ? 'warning' : 'error';
  const [name, description] = KNOWN.get(code) ?? [`TPM_RC_${hex(code)}`, `unknown format-0 ${kind}`];
  return { rc: code, base: code, name, kind, text: `${name} (${hex(code)}): ${description}` };
}
