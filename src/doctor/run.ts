import { silent, type DebugLog } from '../debug.js';
import { SignerError } from '../errors.js';
import { loadCertificateFile, loadIntermediates, loadLeafCertificate } from '../certs/load.js';
import { openKeySource, resolveKeyOptions, type KeyOptions, type KeySpec, type Pkcs11KeySpec } from '../keys/index.js';
import { publicKeyMatchesCertificate } from '../keys/match.js';
import { parseArn } from '../rolesanywhere/arn.js';
import { resolveEndpoint } from '../rolesanywhere/endpoint.js';
import { checkChain, checkLeaf, checkRequest, checkSessionFlags, failedCheck, type CheckResult, type RequestFlags } from './checks.js';
import type { HttpSend } from '../rolesanywhere/http-wire.js';
import { checkEndpoint } from './network.js';

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
  /** --with-proxy: reach the endpoint through the environment's proxy, as credential-process would. */
  readonly withProxy?: boolean;
  /** Where proxy and CA settings are read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For tests; default: credential-process's own HTTP layer (rolesanywhere/http.ts) with the flags above. */
  readonly send?: HttpSend;
}

/**
 * Runs every check offline: the request flags first (free), then the certificate and chain
 * files, then the key, which is opened only to compare its public key with the certificate's:
 * no signature is made, so a PIN-per-signature key or touch policy is never exercised. A step
 * that cannot run is itself a failed check; doctor never stops at the first problem.
 */
export async function runDoctor(options: DoctorOptions, now: Date): Promise<CheckResult[]> {
  const debug = options.debug ?? silent;
  const results: CheckResult[] = [...checkRequest(options), ...checkSessionFlags(options)];
  if (options.offline !== true) results.push(...(await networkChecks(options, now)));

  let leafFromFile: Uint8Array | undefined;
  let keyOptions: ReturnType<typeof resolveKeyOptions> | undefined;
  try {
    keyOptions = resolveKeyOptions(options);
    if (keyOptions.certificateFile !== undefined) leafFromFile = loadLeafCertificate(keyOptions.certificateFile);
  } catch (error) {
    results.push(failedCheck('certificate', error));
  }
  const intermediates = attempt(results, 'intermediates', () => (options.intermediates === undefined ? [] : loadIntermediates(options.intermediates))) ?? [];
  const anchors = options.trustAnchorCertificate === undefined
    ? undefined
    : attempt(results, 'trust anchor', () => loadCertificateFile(options.trustAnchorCertificate as string));

  let leaf = leafFromFile;
  let chainFromSource: readonly Uint8Array[] = [];
  if (keyOptions !== undefined) {
    const token = keyOptions.spec.kind === 'pkcs11' ? await tokenCheck(keyOptions.spec) : undefined;
    if (token !== undefined) results.push(token.result);
    const tpmLines = keyOptions.spec.kind === 'tpm' ? await (await import('./tpm.js')).checkTpm(keyOptions.spec) : [];
    results.push(...tpmLines);
    if (token !== undefined && !token.mayLogIn) {
      results.push(token.reachable
        ? { check: 'key', status: 'warn', detail: 'not opened: logging in now could block the PIN', fix: token.result.fix ?? 'see the token line' }
        : { check: 'key', status: 'warn', detail: 'not opened: the token is not reachable (above)', fix: 'fix the token line first' });
    } else if (tpmLines.some((line) => line.check === 'tpm' && line.status === 'fail')) {
      // The same cause would fail the key line again: one failed line per cause.
      results.push({ check: 'key', status: 'warn', detail: 'not opened: the TPM does not answer (above)', fix: 'fix the tpm line first' });
    } else {
      if (token !== undefined) options.notice?.('doctor: opening the key logs in to the token (one PIN entry; no signature is made)');
      // Comparing public keys needs no TPM key password: none is read, so none is asked for.
      const spec = keyOptions.spec.kind === 'tpm' ? { ...keyOptions.spec, noPassword: true } : keyOptions.spec;
      const opened = await checkKey(spec, leaf, debug);
      results.push(...opened.results);
      leaf ??= opened.certificate;
      chainFromSource = opened.chain;
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
    results.push(failedCheck(check, error));
    return undefined;
  }
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
  const env = options.env ?? process.env;
  const withProxy = options.withProxy === true;
  const insecureSkipVerify = options.insecureSkipVerify === true;
  const send = options.send ?? (await import('../rolesanywhere/http.js')).createHttpSend({ env, useProxyFromEnvironment: withProxy, insecureSkipVerify });
  return checkEndpoint(endpoint, () => new Date(Date.now() + offset), { send, withProxy, env });
}

/**
 * The token's PIN state from its flags, read without a login. On the final try (or when the
 * token cannot be read) doctor does not log in: a mistyped PIN would block the card.
 */
async function tokenCheck(spec: Pkcs11KeySpec): Promise<{ result: CheckResult; mayLogIn: boolean; reachable: boolean }> {
  const { readTokenState } = await import('../enroll/pkcs11-device.js');
  const { parsePkcs11Uri } = await import('../keys/pkcs11/uri.js');
  const pkcs11js = (await import('../keys/pkcs11/binding.js')).loadPkcs11Binding();
  let state;
  try {
    const uri = parsePkcs11Uri((spec.keyUri ?? spec.certificateUri) as string);
    state = readTokenState({ uri, ...(spec.modulePath !== undefined ? { modulePath: spec.modulePath } : {}) });
  } catch (error) {
    return { result: failedCheck('token', error), mayLogIn: false, reachable: false };
  }
  const name = `token "${state.label}" (serial ${state.serial}) in ${state.modulePath}`;
  if ((state.flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0) {
    return { result: { check: 'token', status: 'fail', detail: `${name}: the user PIN is blocked`, fix: 'unblock it with the PUK or SO PIN (YubiKey: ykman piv access unblock-pin)' }, mayLogIn: false, reachable: true };
  }
  if ((state.flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) !== 0) {
    return { result: { check: 'token', status: 'fail', detail: `${name}: one PIN try is left before the PIN blocks`, fix: 'log in once with the right PIN using the token\'s own tool to reset the counter; doctor does not log in now' }, mayLogIn: false, reachable: true };
  }
  if ((state.flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) !== 0) {
    return { result: { check: 'token', status: 'warn', detail: `${name}: the token reports few PIN tries left`, fix: 'check the PIN and its source before the next run; a successful login resets the counter' }, mayLogIn: true, reachable: true };
  }
  return { result: { check: 'token', status: 'ok', detail: `${name} present; PIN not blocked, no failed tries reported` }, mayLogIn: true, reachable: true };
}

/** Opens the key only to compare public keys: no signature, so no PIN-per-signature prompt or touch. */
async function checkKey(spec: KeySpec, leafFromFile: Uint8Array | undefined, debug: DebugLog): Promise<{ results: CheckResult[]; certificate?: Uint8Array; chain: readonly Uint8Array[] }> {
  try {
    const source = await openKeySource(spec, { debug });
    try {
      const leaf = leafFromFile ?? source.certificate;
      const results: CheckResult[] = [{ check: 'key', status: 'ok', detail: `${source.description} opens (${source.keyType})` }];
      if (leaf !== undefined) {
        results.push(publicKeyMatchesCertificate(source.publicKey, leaf)
          ? { check: 'key matches certificate', status: 'ok', detail: 'same public key (compared without a signature)' }
          : { check: 'key matches certificate', status: 'fail', detail: 'the certificate is for another key', fix: 'pass the certificate issued for this key, or the key this certificate was issued for' });
      }
      return { results, ...(source.certificate !== undefined ? { certificate: source.certificate } : {}), chain: source.chain ?? [] };
    } finally {
      await source.close();
    }
  } catch (error) {
    return { results: [failedCheck('key', error)], chain: [] };
  }
}
