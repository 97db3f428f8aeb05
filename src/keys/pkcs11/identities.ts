import { describeCertificate, type CertificateDescription } from '../../certs/load.js';
import { silent, type DebugLog } from '../../debug.js';
import type { SecretIO } from '../secret.js';
import type { Pkcs11KeySpec } from '../spec.js';
import { parseUriOption, searchCertificates } from './lookup.js';
import { acquireModule } from './module.js';
import { resolveModulePath, type ModuleSearch } from './module-path.js';
import { closeSession } from './token.js';

/** One certificate on a token that `read-certificate-data --certificate pkcs11:...` matched. */
export interface Pkcs11Identity extends CertificateDescription {
  /** Ready to paste into --certificate or ~/.aws/config: token, label, type=cert and id. */
  readonly uri: string;
  /** DER of the certificate. */
  readonly certificate: Uint8Array;
}

export interface ListIdentitiesOptions {
  readonly uri: string;
  /** --pkcs11-lib; else module-path/module-name in the URI; else p11-kit-proxy. */
  readonly modulePath?: string;
  /** PIN sources for tokens that keep certificates private; defaults to ROLES_ANYWHERE_PIN. */
  readonly pin?: Pkcs11KeySpec['pin'];
  readonly debug?: DebugLog;
  readonly secretIO?: SecretIO;
  readonly moduleSearch?: ModuleSearch;
}

/**
 * Every certificate the URI matches, on every matching token, soonest expiry first (the
 * reference helper's order). A login happens only when nothing is visible without one and a
 * single token matches (certificates kept as private objects).
 */
export async function listPkcs11Identities(options: ListIdentitiesOptions): Promise<Pkcs11Identity[]> {
  const debug = options.debug ?? silent;
  const uri = parseUriOption(options.uri, '--certificate');
  const module = resolveModulePath(options.modulePath, [uri], options.moduleSearch);
  debug(`PKCS#11 module ${module.path} (from ${module.origin})`);
  const loaded = acquireModule(module);
  try {
    const search = await searchCertificates(loaded, uri, { pin: options.pin ?? {}, uris: [uri], io: options.secretIO });
    if (search.session !== undefined) closeSession(search.session);
    debug(`${search.found.length} certificate(s) match${search.loggedIn ? ' (after login)' : ''}`);
    const identities: Pkcs11Identity[] = [];
    for (const found of search.found) {
      let about: CertificateDescription;
      try {
        about = describeCertificate(found.der);
      } catch {
        debug(`skipping ${found.uri}: not a valid X.509 certificate`);
        continue;
      }
      identities.push({ ...about, uri: found.uri, certificate: found.der });
    }
    return identities.sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
  } finally {
    loaded.release();
  }
}

/**
 * The reference helper's layout ("Matching identities", then "N) <fingerprint> "<subject>""
 * and a URI line), with issuer, serial and validity added so the right one can be picked.
 */
export function formatIdentityList(identities: readonly Pkcs11Identity[]): string {
  if (identities.length === 0) return 'No matching identities\n';
  const lines = ['Matching identities'];
  identities.forEach((identity, index) => {
    lines.push(
      `${index + 1}) ${identity.fingerprintSha256} "${identity.subject}"`,
      `\tIssuer: ${identity.issuer}`,
      `\tSerial: ${identity.serialNumberDecimal} (0x${identity.serialNumberHex})`,
      `\tValid: ${identity.notBefore.toISOString()} to ${identity.notAfter.toISOString()}`,
      `\tKey: ${identity.keyDetail}`,
      `\tURI: ${identity.uri}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
