import t from 'tap';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { startCredentialService, type RunningService } from '../../src/serve/serve.js';
import { loadNativeAddon } from '../../src/native.js';
import { Relay } from '../serve/relay.js';

/**
 * Refresh behaviour against the real emulator, with time moved forward instead of waited for:
 * the service and the emulator share one adjustable clock (signatures stay within the skew
 * window because both sides see the same time). Clients are real HTTP clients speaking IMDSv2.
 * The outage is real too: CreateSession goes through a TCP relay that the test switches off.
 */
const MINUTE = 60_000;
let offset = 0;
const clock = () => new Date(Date.now() + offset);

let rig: Rig;
let relay: Relay;
let service: RunningService;
const log: string[] = [];

t.before(async () => {
  rig = await startRig({ clock });
  relay = new Relay(new URL(rig.url));
  const relayUrl = await relay.listen();
  const id = await rig.issueFileIdentity('refresh-client');
  service = await startCredentialService(
    {
      identity: { certificate: id.certificatePath, privateKey: id.keyPath, intermediates: id.chainPath },
      session: { trustAnchorArn: rig.trustAnchorArn, profileArn: rig.profileArn, roleArn: rig.roleArn, endpoint: relayUrl },
      mode: 'imds',
      bind: '127.0.0.1',
      port: 0,
      hopLimit: 64,
      allowNonLoopback: false,
    },
    { native: loadNativeAddon({}), log: (line) => log.push(line), debug: () => {}, clock, random: () => 0 },
  );
});
t.teardown(async () => {
  await service.close();
  await relay.close();
  await rig.close();
});

interface Fetched {
  status: number;
  body: Record<string, string>;
}

/** One client doing what an SDK does: token, role name, credentials. */
async function imdsClient(): Promise<Fetched> {
  const base = service.url;
  const token = await (await fetch(new URL('latest/api/token', base), { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' } })).text();
  const headers = { 'x-aws-ec2-metadata-token': token };
  const role = await (await fetch(new URL('latest/meta-data/iam/security-credentials/', base), { headers })).text();
  const response = await fetch(new URL(`latest/meta-data/iam/security-credentials/${role}`, base), { headers });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('a refresh under 64 concurrent clients makes exactly one CreateSession', async (t) => {
  t.equal(rig.stats.createSession, 1, 'one CreateSession at start');
  const first = await imdsClient();
  t.equal(first.status, 200);

  // Into the refresh window (15 minutes before expiry; jitter 0): everyone is answered, with
  // the current credentials or, once the one refresh has landed, the new ones.
  offset = 46 * MINUTE;
  const inWindow = await Promise.all(Array.from({ length: 64 }, () => imdsClient()));
  await waitFor(() => service.refresher.stats().successes === 2, 'the background refresh');
  t.equal(rig.stats.createSession, 2, 'exactly one CreateSession for 64 clients');
  const refreshed = await imdsClient();
  t.not(refreshed.body['AccessKeyId'], first.body['AccessKeyId'], 'new credentials after the refresh');
  t.ok(inWindow.every((r) => r.status === 200), 'all 64 answered 200');
  t.same(new Set(inWindow.map((r) => r.body['AccessKeyId'])).size <= 2 && inWindow.every((r) => [first.body['AccessKeyId'], refreshed.body['AccessKeyId']].includes(r.body['AccessKeyId'])), true, 'each got the old or the new credentials, nothing else');

  // Past expiry (as after a suspended laptop): all 64 wait for the same single refresh.
  offset += 61 * MINUTE;
  const afterExpiry = await Promise.all(Array.from({ length: 64 }, () => imdsClient()));
  t.equal(rig.stats.createSession, 3, 'exactly one CreateSession again');
  const keys = new Set(afterExpiry.map((r) => r.body['AccessKeyId']));
  t.equal(keys.size, 1, 'all 64 got the same, new credentials');
  t.notOk(keys.has(refreshed.body['AccessKeyId']), 'not the expired ones');
  t.ok(afterExpiry.every((r) => r.status === 200));
});

t.test('an emulator outage keeps the last good credentials served, then 500 only when none are valid', async (t) => {
  const good = await imdsClient();
  const goodExpiry = Date.parse(good.body['Expiration'] ?? '');
  const attemptsBefore = service.refresher.stats().attempts;
  relay.cut();

  offset = goodExpiry - Date.now() - 14 * MINUTE;
  const during = await Promise.all(Array.from({ length: 16 }, () => imdsClient()));
  t.ok(during.every((r) => r.status === 200 && r.body['AccessKeyId'] === good.body['AccessKeyId']), 'last good credentials served during the outage');
  await waitFor(() => service.refresher.stats().failures >= 1, 'the failed refresh');
  t.equal(service.refresher.stats().attempts, attemptsBefore + 1, 'one attempt, not one per client');
  await waitFor(() => log.some((line) => line.startsWith('refresh failed (')), 'the log line');
  t.match(log.find((line) => line.startsWith('refresh failed (')), /^refresh failed \(cannot reach http:\/\/127\.0\.0\.1:\d+\/sessions \(.+\): check --endpoint, the network and any proxy settings\); serving the last good credentials until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; next attempt at /);
  const stillGood = await imdsClient();
  t.equal(stillGood.body['AccessKeyId'], good.body['AccessKeyId'], 'still served after the failure');

  // Past expiry with the endpoint still down: a clear 500, never empty or expired credentials.
  offset = goodExpiry - Date.now() + MINUTE;
  const expired = await imdsClient();
  t.equal(expired.status, 500);
  t.equal(expired.body['Code'], 'CredentialsUnavailable');
  t.match(expired.body['Message'], /^no valid credentials: the last refresh failed: cannot reach http:\/\/127\.0\.0\.1:\d+\/sessions/);
  t.equal(expired.body['AccessKeyId'], undefined);

  // The endpoint comes back: the next attempt after the back-off succeeds.
  relay.restore();
  offset += 10 * MINUTE;
  const recovered = await imdsClient();
  t.equal(recovered.status, 200);
  t.not(recovered.body['AccessKeyId'], good.body['AccessKeyId']);
  t.ok(Date.parse(recovered.body['Expiration'] ?? '') > Date.now() + offset, 'valid again');
});
