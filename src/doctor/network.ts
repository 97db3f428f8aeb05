import { SignerError } from '../errors.js';
import { networkError } from '../rolesanywhere/client.js';
import type { HttpResponse, HttpSend } from '../rolesanywhere/http-wire.js';
import { selectProxy } from '../rolesanywhere/proxy-env.js';
import type { CheckResult } from './checks.js';

/** Skew the service tolerates (undocumented; FACTS.md section 3 assumes 5 minutes). */
const SKEW_FAIL_MS = 5 * 60 * 1000;
/** Above this, say so before it grows into a refusal. */
const SKEW_WARN_MS = 60 * 1000;
const TIMEOUT_MS = 5000;

export interface EndpointCheckOptions {
  /** The same HTTP layer credential-process uses (rolesanywhere/http.ts), built with the same flags. */
  readonly send: HttpSend;
  /** --with-proxy: whether `send` goes through the environment's proxy. */
  readonly withProxy: boolean;
  /** Where the proxy variables are read, as `send` reads them. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The proxy credential-process would use for `endpoint`, by the very rule it uses
 * (rolesanywhere/proxy-env.ts), shown without its user and password. A proxy set in the
 * environment but left unused without --with-proxy is a warning: it is a common surprise.
 */
export function checkProxy(endpoint: URL, withProxy: boolean, env: Readonly<Record<string, string | undefined>>): CheckResult {
  let choice: ReturnType<typeof selectProxy>;
  try {
    choice = selectProxy(endpoint, env);
  } catch (error) {
    if (!(error instanceof SignerError)) throw error;
    // Unused without --with-proxy, but the day the flag is added it would fail: say so, as a warning.
    const { detail, fix } = splitMessage(error.message);
    return { check: 'proxy', status: withProxy ? 'fail' : 'warn', detail, fix: fix ?? 'fix or unset that variable' };
  }
  if (choice.kind === 'direct') return { check: 'proxy', status: 'ok', detail: `none: ${choice.reason}` };
  if (withProxy) return { check: 'proxy', status: 'ok', detail: `${choice.display} (from ${choice.variable})` };
  return {
    check: 'proxy',
    status: 'warn',
    detail: `${choice.display} (from ${choice.variable}) set in the environment but not used (credential-process uses it only with --with-proxy)`,
    fix: `if this machine reaches ${endpoint.host} only through that proxy, add --with-proxy to the credential_process line (and to this doctor run)`,
  };
}

/**
 * One unauthenticated GET to the endpoint through the same HTTP layer as CreateSession (the
 * proxy tunnel, the CA bundle settings, --no-verify-ssl): does it answer (DNS, TCP, TLS), and
 * how far is this machine's clock from the endpoint's `Date` header. Any HTTP answer counts as
 * reachable (the service answers a bare GET with an error); only the Date is read. A proxy that
 * refuses is its own failed line, naming the variable it came from. Bounded by a 5 s timeout.
 */
export async function checkEndpoint(endpoint: URL, now: () => Date, options: EndpointCheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [checkProxy(endpoint, options.withProxy, options.env)];
  if (results[0]?.status === 'fail') return results;
  const target = new URL('/', endpoint.origin);
  let response: HttpResponse;
  const sentAt = now();
  try {
    response = await options.send({ url: target, method: 'GET', headers: {}, body: '', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (cause) {
    const { error } = networkError(target.href, cause, { timeoutMs: TIMEOUT_MS });
    const isProxy = error.code.startsWith('PROXY_');
    results.push({ check: isProxy ? 'proxy' : 'endpoint', status: 'fail', ...splitMessage(error.message) });
    return results;
  }
  results.push({ check: 'endpoint', status: 'ok', detail: `${endpoint.origin} answers (HTTP ${response.status})` });
  const dateHeader = response.headers['date'];
  const serverTime = dateHeader === undefined ? Number.NaN : Date.parse(dateHeader);
  if (dateHeader === undefined || Number.isNaN(serverTime)) {
    results.push({ check: 'clock', status: 'warn', detail: `${endpoint.origin} sent no Date header`, fix: 'check the clock against NTP by other means (timedatectl, chronyc tracking)' });
    return results;
  }
  // HTTP dates have whole seconds; compare with the middle of the round trip.
  const local = (sentAt.getTime() + now().getTime()) / 2;
  const skew = local - serverTime;
  const seconds = Math.round(Math.abs(skew) / 1000);
  const detail = `this machine is ${seconds} s ${skew >= 0 ? 'ahead of' : 'behind'} ${endpoint.host} (its Date: ${dateHeader})`;
  if (Math.abs(skew) > SKEW_FAIL_MS) {
    results.push({ check: 'clock', status: 'fail', detail, fix: 'synchronise the clock (timedatectl set-ntp true, chronyc makestep): signatures more than about 5 minutes off are refused as "Signature expired"' });
  } else if (Math.abs(skew) > SKEW_WARN_MS) {
    results.push({ check: 'clock', status: 'warn', detail, fix: 'synchronise the clock before the skew reaches 5 minutes (timedatectl, chronyc tracking)' });
  } else {
    results.push({ check: 'clock', status: 'ok', detail });
  }
  return results;
}

/**
 * The HTTP layer's messages read "what happened (code): what to do"; the first ": " splits
 * them (URLs have no ": ", and the advice may itself contain one).
 */
function splitMessage(message: string): { detail: string; fix?: string } {
  const split = message.indexOf(': ');
  return split === -1 ? { detail: message } : { detail: message.slice(0, split), fix: message.slice(split + 2) };
}
