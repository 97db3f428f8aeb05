import { silent, type DebugLog } from '../debug.js';
import { SignerError } from '../errors.js';
import { loadCertificateFile, loadIntermediates, loadLeafCertificate } from '../certs/load.js';
import { openKeySource, resolveKeyOptions, type KeyOptions } from '../keys/index.js';
import { publicKeyMatchesCertificate } from '../keys/match.js';
import { parseArn } from '../rolesanywhere/arn.js';
import { resolveEndpoint } from '../rolesanywhere/endpoint.js';
import { checkChain, checkLeaf, checkRequest, type CheckResult, type RequestFlags } from './checks.js';
import { checkEndpoint, type FetchLike } from './network.js';

export interface DoctorOptions extends KeyOptions, RequestFlags {
  readonly intermediates?: string;
  /** PEM bundle of the trust anchor's CA certificates. */
  readonly trustAnchorCertificate?: string;
  readonly debug?: DebugLog;
  /** Told before a step that costs a PIN entry or a touch, so the user is not surprised. */
  readonly notice?: (message: string) => void;
  /** --endpoint; else the region's IAM Roles Anywhere endpoint. */
  readonly endpoint?: string;
  /** --offline: no network check at all. */
  readonly offline?: boolean;
  readonly fetch?: FetchLike;
}

/**
 * Runs every check offline: the request flags first (free), then the certificate and chain
 * files, then the key, which is opened only to compare its public key with the certificate's:
 * no signature is made, so a PIN-per-signature key or touch policy is never exercised. A step
 * that cannot run is itself a failed check; doctor never stops at the first problem.
 */
export async function runDoctor(options: DoctorOptions, now: Date): Promise<CheckResult[]> {
  const debug = options.debug ?? silent;
  const results: CheckResult[] = [...checkRequest(options)];
  if (options.offline !== true) results.push(...(await networkChecks(options, now)));

  let leafFromFile: Uint8Array | undefined;
  let keyOptions: ReturnType<typeof resolveKeyOptions> | undefined;
  try {
    keyOptions = resolveKeyOptions(options);
    if (keyOptions.certificateFile !== undefined) leafFromFile = loadLeafCertificate(keyOptions.certificateFile);
  } catch (error) {
    results.push(failure('certificate', error));
  }
  const intermediates = attempt(results, 'intermediates', () => (options.intermediates === undefined ? [] : loadIntermediates(options.intermediates))) ?? [];
  const anchors = options.trustAnchorCertificate === undefined
    ? undefined
    : attempt(results, 'trust anchor', () => loadCertificateFile(options.trustAnchorCertificate as string));

  let leaf = leafFromFile;
  let chainFromSource: readonly Uint8Array[] = [];
  if (keyOptions !== undefined) {
    if (keyOptions.spec.kind === 'pkcs11') options.notice?.('doctor: opening the key logs in to the token (one PIN entry; no signature is made)');
    try {
      const source = await openKeySource(keyOptions.spec, { debug });
      try {
        leaf ??= source.certificate;
        chainFromSource = source.chain ?? [];
        results.push({ check: 'key', status: 'ok', detail: `${source.description} opens (${source.keyType})` });
        if (leaf !== undefined) {
          results.push(publicKeyMatchesCertificate(source.publicKey, leaf)
            ? { check: 'key matches certificate', status: 'ok', detail: 'same public key (compared without a signature)' }
            : { check: 'key matches certificate', status: 'fail', detail: 'the certificate is for another key', fix: 'pass the certificate issued for this key, or the key this certificate was issued for' });
        }
      } finally {
        await source.close();
      }
    } catch (error) {
      results.push(failure('key', error));
    }
  }
  if (leaf === undefined) {
    if (!results.some((result) => result.check === 'certificate')) {
      results.push({ check: 'certificate', status: 'fail', detail: 'no certificate to check', fix: 'pass --certificate (a PEM/DER file or a pkcs11: URI)' });
    }
    return results;
  }
  results.push(...checkLeaf(leaf, now));
  results.push(...checkChain(leaf, [...intermediates, ...chainFromSource], anchors, now));
  return results;
}

function attempt<T>(results: CheckResult[], check: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    results.push(failure(check, error));
    return undefined;
  }
}

/** A SignerError's message already says what to do after its last colon. */
function failure(check: string, error: unknown): CheckResult {
  if (!(error instanceof SignerError)) throw error;
  const split = error.message.lastIndexOf(': ');
  return split === -1
    ? { check, status: 'fail', detail: error.message }
    : { check, status: 'fail', detail: error.message.slice(0, split), fix: error.message.slice(split + 2) };
}

/** The endpoint the request would go to, as credential-process resolves it; needs both ARNs. */
async function networkChecks(options: DoctorOptions, now: Date): Promise<CheckResult[]> {
  let endpoint: URL;
  try {
    if (options.trustAnchorArn === undefined || options.profileArn === undefined) {
      if (options.endpoint === undefined) {
        return [{ check: 'endpoint', status: 'warn', detail: 'not checked: no --endpoint and no ARNs to find the region\'s endpoint', fix: 'pass --trust-anchor-arn and --profile-arn (or --endpoint), or --offline to skip network checks' }];
      }
      endpoint = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(options.endpoint) ? options.endpoint : `https://${options.endpoint}`);
    } else {
      endpoint = resolveEndpoint({
        trustAnchor: parseArn(options.trustAnchorArn, 'trust-anchor'),
        profile: parseArn(options.profileArn, 'profile'),
        ...(options.region !== undefined ? { region: options.region } : {}),
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      }).url;
    }
  } catch (error) {
    // The ARN and region lines above already say what is wrong.
    if (error instanceof SignerError) return [{ check: 'endpoint', status: 'warn', detail: 'not checked: the request flags are not usable (above)', fix: 'fix them first' }];
    throw error;
  }
  // The clock is read around the request; `now` anchors it so tests can skew it.
  const offset = now.getTime() - Date.now();
  return checkEndpoint(endpoint, () => new Date(Date.now() + offset), options.fetch);
}
