import { SignerError } from '../../errors.js';
import type { KeySourceDescriptor } from '../descriptor.js';
import { PKCS11_ML_DSA_REFUSAL } from '../mldsa/hardware.js';
import { PIN_ENV_VAR, type Pkcs11KeySpec } from '../spec.js';

/** RFC 3986 schemes are case-insensitive: `PKCS11:` is a URI too, never a file name. */
export function isPkcs11Uri(value: string): boolean {
  return /^pkcs11:/i.test(value);
}

/**
 * PKCS#11 tokens (HSMs, smart cards, SoftHSM): selected by a pkcs11: URI in --private-key or
 * --certificate. Nothing here loads the module binding; `load()` does.
 */
export const pkcs11KeySource: KeySourceDescriptor<Pkcs11KeySpec> = {
  kind: 'pkcs11',
  claim(options) {
    const { certificate, privateKey } = options;
    const certificateIsUri = certificate !== undefined && isPkcs11Uri(certificate);
    if (!certificateIsUri && (privateKey === undefined || !isPkcs11Uri(privateKey))) return undefined;
    if (privateKey !== undefined && !isPkcs11Uri(privateKey)) {
      throw new SignerError('USAGE', '--certificate is a pkcs11: URI but --private-key is not: give a pkcs11: URI for the key too, or leave --private-key out to use the key with the certificate\'s id');
    }
    const spec: Pkcs11KeySpec = {
      kind: 'pkcs11',
      ...(privateKey !== undefined ? { keyUri: privateKey } : {}),
      ...(certificateIsUri ? { certificateUri: certificate } : {}),
      ...(options.pkcs11Lib !== undefined ? { modulePath: options.pkcs11Lib } : {}),
      pin: options.pin ?? { envVar: PIN_ENV_VAR },
      reusePin: options.reusePin === true,
      ...(options.touchNotice !== undefined ? { touchNotice: options.touchNotice } : {}),
    };
    return certificateIsUri || certificate === undefined ? { spec } : { spec, certificateFile: certificate };
  },
  async cacheIdentity(spec) {
    if (spec.certificateUri === undefined) return undefined;
    // Canonical and without the PIN: equal URIs share an entry, and no PIN reaches the key.
    const { formatPkcs11Uri, parsePkcs11Uri } = await import('./uri.js');
    const { pinValue: _pinValue, pinSource: _pinSource, ...withoutPin } = parsePkcs11Uri(spec.certificateUri);
    return `pkcs11:${formatPkcs11Uri(withoutPin)}|${spec.modulePath ?? ''}`;
  },
  authenticationFailureCodes: ['PKCS11_PIN_INCORRECT', 'PKCS11_PIN_LOCKED', 'PKCS11_PIN_REQUIRED'],
  mlDsaRefusal: PKCS11_ML_DSA_REFUSAL,
  deviceLostCodes: ['PKCS11_DEVICE_ERROR'],
  certificateDiscovery: {
    claims: isPkcs11Uri,
    async describe({ certificate, modulePath, debug }) {
      const { listPkcs11Identities, formatIdentityList } = await import('./identities.js');
      const identities = await listPkcs11Identities({ uri: certificate, ...(modulePath !== undefined ? { modulePath } : {}), debug });
      return formatIdentityList(identities);
    },
  },
  async load() {
    const { openPkcs11KeySource } = await import('./source.js');
    return { open: (spec, context) => openPkcs11KeySource(spec, context.debug === undefined ? {} : { debug: context.debug }) };
  },
};
