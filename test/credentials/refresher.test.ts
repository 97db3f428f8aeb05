import t from 'tap';
import { createRefresher, type RefresherEvent, type RefresherOptions, type Timers } from '../../src/credentials/refresher.js';
import type { Credentials } from '../../src/credentials/types.js';
import { SignerError, isSignerError } from '../../src/errors.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A clock and timers that only move when the test says so. */
function fakeTime(start = T0) {
  let now = start;
  let nextId = 0;
  const pending = new Map<number, { at: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout(callback, ms) {
      nextId++;
      pending.set(nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    clock: () => new Date(now),
    timers,
    get now() {
      return now;
    },
    pendingTimes: () => [...pending.values()].map((entry) => entry.at).sort((a, b) => a - b),
    /** Moves time forward, firing due timers in order and letting their promises settle. */
    async advance(ms: number) {
      const target = now + ms;
      for (;;) {
        const due = [...pending.entries()].filter(([, entry]) => entry.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        pending.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].callback();
        await settle();
      }
      now = target;
      await settle();
    },
  };
}

async function settle() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

/** A CreateSession stand-in: each call is answered by the test (resolve or reject). */
function scriptedFetch(time: { now: number }) {
  let serial = 0;
  const calls: Array<{ resolve: (lifetimeMs?: number) => void; reject: (error: unknown) => void }> = [];
  const fetch = () =>
    new Promise<Credentials>((resolve, reject) => {
      calls.push({
        resolve: (lifetimeMs = HOUR) => {
          serial++;
          resolve({
            accessKeyId: `ASIA${String(serial).padStart(16, '0')}`,
            secretAccessKey: `secret-${serial}`,
            sessionToken: `token-${serial}`,
            expiration: new Date(time.now + lifetimeMs),
          });
        },
        reject,
      });
    });
  return { fetch, calls };
}

function setup(overrides: Partial<RefresherOptions> = {}) {
  const time = fakeTime();
  const remote = scriptedFetch(time);
  const events: RefresherEvent[] = [];
  const refresher = createRefresher({
    fetch: remote.fetch,
    clock: time.clock,
    timers: time.timers,
    random: () => 0.5,
    onEvent: (event) => events.push(event),
    ...overrides,
  });
  return { time, remote, refresher, events };
}

async function started(overrides: Partial<RefresherOptions> = {}) {
  const world = setup(overrides);
  const first = world.refresher.start();
  await settle();
  world.remote.calls[0]?.resolve();
  await first;
  return world;
}

t.test('start fetches once; get then answers from memory without another fetch', async (t) => {
  const { refresher, remote } = await started();
  const snapshot = await refresher.get();
  t.equal(snapshot.credentials.accessKeyId, 'ASIA0000000000000001');
  t.equal(snapshot.obtainedAt.getTime(), T0);
  t.equal(remote.calls.length, 1);
  t.same(refresher.stats(), { attempts: 1, successes: 1, failures: 0, consecutiveFailures: 0 });
});

t.test('start fails fast with the error of the first fetch', async (t) => {
  const { refresher, remote } = setup();
  const first = refresher.start();
  await settle();
  remote.calls[0]?.reject(new SignerError('CREATE_SESSION_DENIED', 'CreateSession denied (403 AccessDeniedException): Untrusted Signing Certificate'));
  await t.rejects(first, { code: 'CREATE_SESSION_DENIED', message: 'CreateSession denied (403 AccessDeniedException): Untrusted Signing Certificate' });
  t.equal(refresher.current(), undefined);
});

t.test('64 concurrent callers with no usable credentials share exactly one fetch', async (t) => {
  const { refresher, remote, time } = await started();
  await time.advance(HOUR);
  const answers = Array.from({ length: 64 }, () => refresher.get());
  await settle();
  t.equal(remote.calls.length, 2, 'one new fetch for 64 callers');
  remote.calls[1]?.resolve();
  const snapshots = await Promise.all(answers);
  t.ok(snapshots.every((s) => s.credentials.accessKeyId === 'ASIA0000000000000002'), 'all get the new credentials');
});

t.test('inside the refresh window callers get the current credentials at once and one background fetch starts', async (t) => {
  const { refresher, remote, time } = await started({ random: () => 0 });
  await time.advance(45 * MINUTE);
  const answers = await Promise.all(Array.from({ length: 64 }, () => refresher.get()));
  t.ok(answers.every((s) => s.credentials.accessKeyId === 'ASIA0000000000000001'), 'nobody waits for the refresh');
  t.equal(remote.calls.length, 2, 'exactly one refresh started');
  remote.calls[1]?.resolve();
  await settle();
  t.equal((await refresher.get()).credentials.accessKeyId, 'ASIA0000000000000002');
  t.equal(remote.calls.length, 2);
});

t.test('before the refresh window no fetch happens', async (t) => {
  const { refresher, remote, time } = await started({ random: () => 0 });
  await time.advance(44 * MINUTE);
  await refresher.get();
  t.equal(remote.calls.length, 1);
});

t.test('the background timer refreshes 15 to 20 minutes ahead depending on jitter', async (t) => {
  for (const [random, aheadMinutes] of [[0, 15], [0.5, 17.5], [0.999, 19.995]] as const) {
    const { time } = await started({ background: true, random: () => random });
    t.same(time.pendingTimes(), [T0 + HOUR - aheadMinutes * MINUTE], `random ${random}: ${aheadMinutes} minutes ahead`);
  }
});

t.test('the background timer fires the refresh by itself', async (t) => {
  const { remote, time, refresher, events } = await started({ background: true, random: () => 0 });
  await time.advance(45 * MINUTE - 1);
  t.equal(remote.calls.length, 1, 'not yet');
  await time.advance(1);
  t.equal(remote.calls.length, 2, 'refresh started at expiry - 15 min');
  remote.calls[1]?.resolve();
  await settle();
  t.equal(refresher.current()?.credentials.accessKeyId, 'ASIA0000000000000002');
  t.same(time.pendingTimes(), [T0 + 45 * MINUTE + HOUR - 15 * MINUTE], 'next refresh scheduled for the new credentials');
  t.same(events.filter((e) => e.type === 'refreshed').length, 2);
});

t.test('short-lived credentials (900 s) refresh at half-life instead of continuously', async (t) => {
  const { time, remote, refresher } = setup({ background: true, random: () => 0 });
  const first = refresher.start();
  await settle();
  remote.calls[0]?.resolve(15 * MINUTE);
  await first;
  t.same(time.pendingTimes(), [T0 + 7.5 * MINUTE]);
});

t.test('a failed refresh keeps the last good credentials until they are no longer usable', async (t) => {
  const { refresher, remote, time, events } = await started({ background: true, random: () => 0 });
  await time.advance(45 * MINUTE);
  remote.calls[1]?.reject(new SignerError('NETWORK_ERROR', 'cannot reach http://127.0.0.1:1/sessions (ECONNREFUSED): check --endpoint, the network and any proxy settings'));
  await settle();
  const served = await refresher.get();
  t.equal(served.credentials.accessKeyId, 'ASIA0000000000000001', 'still the last good credentials');
  const failed = events.find((e) => e.type === 'refresh-failed');
  t.match(failed, { type: 'refresh-failed', failures: 1 });
  t.equal(failed?.type === 'refresh-failed' ? failed.servingUntil?.getTime() : undefined, T0 + HOUR - MINUTE, 'served until a minute before expiry');
  t.equal(failed?.type === 'refresh-failed' ? failed.retryAt.getTime() : undefined, T0 + 45 * MINUTE + 10_000, 'retry after the minimum interval');
  t.equal(refresher.current()?.credentials.accessKeyId, 'ASIA0000000000000001');
});

t.test('retries back off: 10 s, 20 s, 40 s ... capped at 5 minutes while the credentials last, fast once they nearly expire; callers do not trigger extra attempts', async (t) => {
  const { refresher, remote, time } = await started({ background: true, random: () => 0 });
  await time.advance(45 * MINUTE);
  const gaps: number[] = [];
  let last = time.now;
  for (let failure = 1; failure <= 7; failure++) {
    const index = remote.calls.length - 1;
    remote.calls[index]?.reject(new SignerError('CREATE_SESSION_THROTTLED', 'CreateSession failed (429 ThrottlingException): Rate exceeded'));
    await settle();
    // A burst of callers between attempts must not start one.
    await Promise.all(Array.from({ length: 10 }, () => refresher.get().catch(() => undefined)));
    t.equal(remote.calls.length, index + 1, `no extra attempt after failure ${failure}`);
    const next = time.pendingTimes()[0] ?? NaN;
    await time.advance(next - time.now);
    gaps.push(time.now - last);
    last = time.now;
  }
  // 45:00 + 10 + 20 + 40 + 80 + 160 s = 50:10; the 5-minute step would end at 55:10, but at
  // 55:00 only 5 minutes are left (the JS SDK's refresh window): from then on, 8 s at most.
  t.same(gaps, [10_000, 20_000, 40_000, 80_000, 160_000, 290_000, 8_000]);
});

t.test('with no usable credentials and a failing endpoint, get fails with a clear error and no stale answer', async (t) => {
  const { refresher, remote, time } = await started({ random: () => 0 });
  await time.advance(HOUR - MINUTE);
  t.equal(refresher.current(), undefined, 'credentials with a minute left count as expired');
  const asked = refresher.get();
  await settle();
  remote.calls[1]?.reject(new SignerError('NETWORK_ERROR', 'cannot reach http://127.0.0.1:1/sessions (ECONNREFUSED): check --endpoint, the network and any proxy settings'));
  await t.rejects(asked, {
    code: 'CREDENTIALS_UNAVAILABLE',
    message: 'no valid credentials: the last refresh failed: cannot reach http://127.0.0.1:1/sessions (ECONNREFUSED): check --endpoint, the network and any proxy settings; next attempt in 1 s',
  });
  await time.advance(400);
  await t.rejects(refresher.get(), { code: 'CREDENTIALS_UNAVAILABLE', message: /; next attempt in 1 s$/ });
  t.equal(remote.calls.length, 2, 'no attempt inside the (fast) interval');
  await time.advance(600);
  const retried = refresher.get();
  await settle();
  t.equal(remote.calls.length, 3, 'the next caller after the interval starts one attempt');
  remote.calls[2]?.resolve();
  t.equal((await retried).credentials.accessKeyId, 'ASIA0000000000000002');
});

t.test('credentials that arrive already expired are a failed refresh, not served', async (t) => {
  const { refresher, remote } = setup();
  const first = refresher.start();
  await settle();
  remote.calls[0]?.resolve(30_000);
  await t.rejects(first, { code: 'CREATE_SESSION_BAD_RESPONSE', message: "CreateSession returned credentials that expire at 2030-01-01T00:00:30Z, already past or within a minute: check this machine's clock" });
  t.equal(refresher.current(), undefined);
});

t.test('error messages of non-SignerErrors are not copied into the unavailable message', async (t) => {
  const { refresher, remote } = setup();
  const first = refresher.get();
  await settle();
  remote.calls[0]?.reject(new TypeError('secret-looking detail'));
  const error = await first.catch((e: unknown) => e);
  t.ok(isSignerError(error, 'CREDENTIALS_UNAVAILABLE'));
  t.equal((error as Error).message, 'no valid credentials: the last refresh failed: TypeError; next attempt in 2 s');
});

t.test('refreshNow respects the interval and never rejects', async (t) => {
  const { refresher, remote, time } = await started();
  await refresher.refreshNow();
  t.equal(remote.calls.length, 1, 'inside the minimum interval: nothing');
  await time.advance(10_000);
  const refreshing = refresher.refreshNow();
  await settle();
  t.equal(remote.calls.length, 2);
  remote.calls[1]?.reject(new Error('boom'));
  await t.resolves(refreshing);
  t.equal(refresher.current()?.credentials.accessKeyId, 'ASIA0000000000000001');
});

t.test('stop clears the timer and waits for the refresh in flight', async (t) => {
  const { refresher, remote, time } = await started({ background: true, random: () => 0 });
  await time.advance(45 * MINUTE);
  t.equal(remote.calls.length, 2);
  let stopped = false;
  const stopping = refresher.stop().then(() => (stopped = true));
  await settle();
  t.equal(stopped, false, 'waits for the fetch');
  remote.calls[1]?.resolve();
  await stopping;
  t.same(time.pendingTimes(), [], 'no timer left behind');
  await time.advance(2 * HOUR);
  t.equal(remote.calls.length, 2, 'no refresh after stop');
});

t.test('a fetch that throws before returning a promise fails that attempt only', async (t) => {
  let calls = 0;
  const refresher = createRefresher({
    clock: () => new Date(T0),
    minIntervalMs: 0,
    fetch: () => {
      calls++;
      if (calls === 1) throw new SignerError('NOT_SUPPORTED', 'thrown before any promise');
      return Promise.resolve({ accessKeyId: 'ASIA0000000000000001', secretAccessKey: 's', sessionToken: 't', expiration: new Date(T0 + HOUR) });
    },
  });
  await t.rejects(refresher.start(), { code: 'NOT_SUPPORTED', message: 'thrown before any promise' });
  await refresher.refreshNow();
  t.equal(calls, 2, 'the next attempt calls fetch again');
  t.equal(refresher.current()?.credentials.accessKeyId, 'ASIA0000000000000001');
});

t.test('after an outage that outlasts the credentials, service resumes within seconds of the endpoint\'s return, one CreateSession at a time', async (t) => {
  const time = fakeTime();
  let down = false;
  let inFlight = 0;
  let mostInFlight = 0;
  let serial = 0;
  const attempts: number[] = [];
  const refresher = createRefresher({
    clock: time.clock,
    timers: time.timers,
    random: () => 0.999,
    background: true,
    fetch: async () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      attempts.push(time.now);
      await settle();
      inFlight--;
      if (down) throw new SignerError('CREATE_SESSION_SERVER_ERROR', 'CreateSession failed (503 ServiceUnavailable)');
      serial++;
      return { accessKeyId: `ASIA${String(serial).padStart(16, '0')}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(time.now + HOUR) };
    },
  });
  await refresher.start();
  await time.advance(30 * MINUTE);
  down = true;
  // Down for 40 minutes: the credentials expire during the outage; clients hammer get() meanwhile.
  for (let minute = 0; minute < 40; minute++) {
    await Promise.all(Array.from({ length: 20 }, () => refresher.get().catch(() => undefined)));
    await time.advance(MINUTE);
  }
  t.equal(refresher.current(), undefined, 'nothing left to serve at the end of the outage');
  down = false;
  const backAt = time.now;
  while (refresher.current() === undefined && time.now - backAt < 10 * MINUTE) await time.advance(100);
  const recovery = time.now - backAt;
  t.ok(recovery <= 12_000, `new credentials ${recovery / 1000} s after the endpoint came back (at most 8 s plus jitter)`);
  t.equal(mostInFlight, 1, 'never more than one CreateSession in flight');
  const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
  t.ok(gaps.every((gap) => gap >= 1000), 'never more than one attempt a second');
  t.ok(attempts.length < 40 * 60 / 8 + 30, `bounded: ${attempts.length} attempts over a 40-minute outage`);
  await refresher.stop();
});
