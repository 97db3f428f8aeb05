import t from 'tap';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { hardenLongRunningProcess, hardenProcess, loadNativeAddon, lockSecret, requireHopLimitSupport } from '../src/native.js';

const loaded = loadNativeAddon({});
const noAddon = loaded.addon === undefined ? `native addon not built: ${loaded.reason}` : false;

/**
 * mlock of the 64 KiB test buffer needs that much room under RLIMIT_MEMLOCK (CAP_IPC_LOCK
 * ignores the limit). Some CI runners and containers set the limit to 64 KiB or less in all.
 */
function memlockTooLow(): string | false {
  const status = readFileSync('/proc/self/status', 'utf8');
  const capabilities = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  if (((capabilities >> 14n) & 1n) === 1n) return false;
  const soft = /^Max locked memory\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  if (soft === undefined || soft === 'unlimited') return false;
  const lockedBytes = Number(/^VmLck:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  const room = Number(soft) - lockedBytes;
  return room < 64 * 1024 ? `RLIMIT_MEMLOCK leaves ${room} bytes, less than the 64 KiB this test locks (raise it with ulimit -l)` : false;
}

t.test('ROLES_ANYWHERE_NO_NATIVE=1 turns the addon off, as on a machine without a compiler', async (t) => {
  const off = loadNativeAddon({ ROLES_ANYWHERE_NO_NATIVE: '1' });
  t.equal(off.addon, undefined);
  t.same(off, { reason: 'ROLES_ANYWHERE_NO_NATIVE=1 is set' });
  t.throws(() => requireHopLimitSupport(off, 1), { code: 'HARDENING_UNAVAILABLE', message: '--hop-limit 1 cannot be enforced: ROLES_ANYWHERE_NO_NATIVE=1 is set' });
  t.doesNotThrow(() => requireHopLimitSupport(off, 64), 'the default needs nothing');
  t.equal(
    hardenLongRunningProcess(off, 64),
    'warning: native addon not loaded (ROLES_ANYWHERE_NO_NATIVE=1 is set): hop limit left at the system default, core dumps not disabled, process still dumpable (same-user ptrace, /proc/<pid>/mem), secrets not locked in memory',
  );
  t.equal(
    hardenLongRunningProcess(off),
    'warning: native addon not loaded (ROLES_ANYWHERE_NO_NATIVE=1 is set): core dumps not disabled, process still dumpable (same-user ptrace, /proc/<pid>/mem), secrets not locked in memory',
    'update has no hop limit to mention',
  );
  t.same(lockSecret(off, Buffer.alloc(16)).locked, false);
});

t.test('an addon that is not where it should be is reported, not thrown', async (t) => {
  const missing = loadNativeAddon({}, '/');
  t.same(missing, {
    reason: 'no native addon was shipped for linux-x64 or compiled at install: with a C compiler, make and Python 3 installed, run npm rebuild roles-anywhere-signer (add -g for a global install; npm run build in a checkout)',
  });
});

t.test('hardening turns off core dumps and dumpability, as the kernel reports it', { skip: noAddon }, async (t) => {
  const report = hardenProcess(loaded);
  t.same(report, { enforced: ['core dumps disabled (RLIMIT_CORE 0)', 'process not dumpable (PR_SET_DUMPABLE 0)'], missing: [] });
  const limits = readFileSync('/proc/self/limits', 'utf8');
  t.match(limits, /^Max core file size\s+0\s+0\s+bytes/m, '/proc/self/limits shows a zero core limit');
  t.same(loaded.addon?.processProtection(), { coreSoftLimit: 0, coreHardLimit: 0, dumpable: 0 });
  t.equal(hardenLongRunningProcess(loaded, 1), undefined, 'nothing to warn about');
});

t.test('secret buffers are locked in memory where the memlock limit allows', { skip: noAddon || memlockTooLow() }, async (t) => {
  const lockedKb = () => Number(/^VmLck:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  const before = lockedKb();
  const secret = Buffer.alloc(64 * 1024, 1);
  const lock = lockSecret(loaded, secret);
  t.equal(lock.locked, true);
  t.ok(lockedKb() >= before + 64, `VmLck grew from ${before} kB`);
  secret.fill(0);
  lock.unlock();
  t.ok(lockedKb() <= before + 4, 'unlocked again');
});

t.test('the addon checks its arguments', { skip: noAddon }, async (t) => {
  const addon = loaded.addon;
  t.throws(() => addon?.setHopLimit(-1, 5), { code: 'EBADF' });
  t.throws(() => addon?.setHopLimit(0, 0), { message: 'hops must be from 1 to 255' });
  t.throws(() => addon?.setHopLimit(0, 256), { message: 'hops must be from 1 to 255' });
  const file = openSync('/proc/self/limits', 'r');
  t.teardown(() => closeSync(file));
  t.throws(() => addon?.getHopLimit(file), { code: 'ENOTSOCK' }, 'a file is not a socket');
});
