import type { CheckResult } from './checks.js';

/** Skew the service tolerates (undocumented; FACTS.md section 3 assumes 5 minutes). */
const SKEW_FAIL_MS = 5 * 60 * 1000;
/** Above this, say so before it grows into a refusal. */
const SKEW_WARN_MS = 60 * 1000;
const TIMEOUT_MS = 5000;

export type FetchLike = (url: string, init: { method: string; redirect: 'manual'; signal: AbortSignal }) => Promise<{ status: number; headers: { get(name: string): string | null } }>;

/**
 * One unauthenticated GET to the endpoint: does it answer (DNS, TCP, TLS), and how far is this
 * machine's clock from the endpoint's `Date` header. Any HTTP answer counts as reachable (the
 * service answers a bare GET with an error); only the Date is read. Bounded by a 5 s timeout.
 */
export async function checkEndpoint(endpoint: URL, now: () => Date, fetchImpl: FetchLike = fetch as unknown as FetchLike): Promise<CheckResult[]> {
  let response: Awaited<ReturnType<FetchLike>>;
  const sentAt = now();
  try {
    response = await fetchImpl(endpoint.origin + '/', { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    return [{ check: 'endpoint', status: 'fail', detail: `${endpoint.origin} does not answer (${reasonOf(error)})`, fix: 'check --endpoint or --region, DNS, the firewall and any proxy (doctor does not use a proxy yet)' }];
  }
  const results: CheckResult[] = [{ check: 'endpoint', status: 'ok', detail: `${endpoint.origin} answers (HTTP ${response.status})` }];
  const dateHeader = response.headers.get('date');
  const serverTime = dateHeader === null ? Number.NaN : Date.parse(dateHeader);
  if (Number.isNaN(serverTime)) {
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

function reasonOf(error: unknown): string {
  // fetch wraps the socket error (code ECONNREFUSED, ENOTFOUND, ...) in a TypeError's cause.
  let current: unknown = error;
  let deepest = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, name, cause, message } = current as { code?: unknown; name?: unknown; cause?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (name === 'TimeoutError') return `no answer in ${TIMEOUT_MS / 1000} s`;
    if (typeof message === 'string' && message !== '') deepest = message;
    current = cause;
  }
  return deepest;
}
