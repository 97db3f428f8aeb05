import t from 'tap';
import { join } from 'node:path';
import { startRig, startTlsEmulator, type Rig } from '../helpers/emulator-rig.js';
import { runCli, isolatedEnv } from '../helpers/cli.js';
import { startConnectProxy, closedPort, type TestProxy, type TestProxyOptions } from '../helpers/connect-proxy.js';
import { createPrivateCa, type PrivateCa } from '../helpers/private-ca.js';

/**
 * doctor's network check through the same proxy code as credential-process (issue 12): the
 * emulator serves HTTPS as rolesanywhere.test, a name only the test proxy resolves (to
 * 127.0.0.1), so an endpoint line that is ok proves the proxy carried it. Each way a proxy says
 * no is a failed "proxy" line naming the variable; a proxy left unused is a warning.
 */
let rig: Rig;
let companyCa: PrivateCa;
let endpoint: { readonly port: number; close(): Promise<void> };
let doctorArgs: string[];

t.before(async () => {
  rig = await startRig();
  companyCa = await createPrivateCa(rig.dir, 'Company');
  const server = await companyCa.issueServer('rolesanywhere.test', ['DNS:rolesanywhere.test']);
  endpoint = await startTlsEmulator(rig, server);
  const id = await rig.issueFileIdentity('doctor-behind-proxy');
  doctorArgs = ['doctor', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags.slice(0, 6), '--endpoint', `https://rolesanywhere.test:${endpoint.port}`, '--json'];
});
t.teardown(async () => {
  await endpoint.close();
  await rig.close();
});

interface Check { check: string; status: string; detail: string; fix?: string }

async function doctor(extraArgs: readonly string[], extraEnv: Record<string, string>): Promise<{ code: number | null; checks: Check[]; output: string }> {
  const env = isolatedEnv({ AWS_CONFIG_FILE: join(rig.dir, 'no-such-config'), NODE_EXTRA_CA_CERTS: undefined, AWS_CA_BUNDLE: companyCa.certificatePath, ...extraEnv });
  const result = await runCli([...doctorArgs, ...extraArgs], { env });
  return { code: result.code, checks: JSON.parse(result.stdout) as Check[], output: result.stdout + result.stderr };
}

async function withProxy(t: { teardown(fn: () => unknown): void }, options: TestProxyOptions): Promise<TestProxy> {
  const proxy = await startConnectProxy(options);
  t.teardown(() => proxy.close());
  return proxy;
}

const named = (checks: Check[], name: string): Check[] => checks.filter((check) => check.check === name);

t.test('--with-proxy: the proxy is named without its password, and the endpoint and its Date are reached through it', async (t) => {
  const proxy = await withProxy(t, { behaviour: 'require-auth', credentials: { user: 'alice', password: 'p@ss' } });
  const { code, checks, output } = await doctor(['--with-proxy'], { HTTPS_PROXY: proxy.url.replace('http://', 'http://alice:p%40ss@') });
  t.equal(code, 0, output);
  t.same(named(checks, 'proxy'), [{ check: 'proxy', status: 'ok', detail: `${proxy.url} (from HTTPS_PROXY)` }]);
  t.same(named(checks, 'endpoint'), [{ check: 'endpoint', status: 'ok', detail: `https://rolesanywhere.test:${endpoint.port} answers (HTTP 403)` }]);
  t.match(named(checks, 'clock'), [{ status: 'ok', detail: /^this machine is \d+ s (ahead of|behind) rolesanywhere\.test:\d+ \(its Date: .+ GMT\)$/ }]);
  t.equal(proxy.connects, 1, 'one CONNECT');
  t.notMatch(output, /alice|p%40ss|p@ss/, 'neither user nor password is printed');
});

t.test('a proxy that refuses: 407, 502 and a dropped tunnel are each a failed proxy line naming the variable', async (t) => {
  const auth = await withProxy(t, { behaviour: 'require-auth', credentials: { user: 'alice', password: 'p@ss' } });
  const refusedAuth = await doctor(['--with-proxy'], { https_proxy: auth.url });
  t.equal(refusedAuth.code, 1);
  t.same(named(refusedAuth.checks, 'proxy'), [
    { check: 'proxy', status: 'ok', detail: `${auth.url} (from https_proxy)` },
    { check: 'proxy', status: 'fail', detail: `the proxy ${auth.url} (from https_proxy) requires authentication (407 Proxy Authentication Required)`, fix: 'put the user name and password in https_proxy, percent-encoded, as http://user:password@host:port' },
  ]);
  t.same(named(refusedAuth.checks, 'endpoint'), [], 'no endpoint line: the proxy line says why');
  t.same(named(refusedAuth.checks, 'clock'), []);
  t.equal(auth.connects, 1, 'a 407 is not retried');

  const refusing = await withProxy(t, { behaviour: 'answer-502' });
  const refused = await doctor(['--with-proxy'], { HTTPS_PROXY: refusing.url });
  t.equal(refused.code, 1);
  t.same(named(refused.checks, 'proxy')[1], {
    check: 'proxy',
    status: 'fail',
    detail: `the proxy ${refusing.url} (from HTTPS_PROXY) refused the tunnel to rolesanywhere.test:${endpoint.port} (502 Bad Gateway)`,
    fix: 'the proxy cannot reach that host or does not allow it; check --endpoint with whoever runs the proxy, or add the host to NO_PROXY if it must be reached directly',
  });

  const dropping = await withProxy(t, { behaviour: 'close-tunnel' });
  const dropped = await doctor(['--with-proxy'], { HTTPS_PROXY: dropping.url });
  t.equal(dropped.code, 1);
  t.same(named(dropped.checks, 'proxy')[1], {
    check: 'proxy',
    status: 'fail',
    detail: `the proxy ${dropping.url} (from HTTPS_PROXY) accepted the tunnel to rolesanywhere.test:${endpoint.port} and then closed it without an answer`,
    fix: 'the proxy probably cannot reach that host or blocks it; check --endpoint with whoever runs the proxy, or add the host to NO_PROXY if it must be reached directly',
  });
  t.equal(dropping.connects, 1);
});

t.test('a proxy that is down: a failed proxy line, the password not shown', async (t) => {
  const port = await closedPort();
  const { code, checks, output } = await doctor(['--with-proxy'], { HTTPS_PROXY: `http://bob:s3cr3t@127.0.0.1:${port}` });
  t.equal(code, 1);
  t.same(named(checks, 'proxy'), [
    { check: 'proxy', status: 'ok', detail: `http://127.0.0.1:${port} (from HTTPS_PROXY)` },
    { check: 'proxy', status: 'fail', detail: `cannot connect to the proxy http://127.0.0.1:${port} (from HTTPS_PROXY) (ECONNREFUSED)`, fix: 'check that the proxy runs and that HTTPS_PROXY names it, or leave out --with-proxy' },
  ]);
  t.notMatch(output, /s3cr3t|bob/);
});

t.test('a proxy in the environment without --with-proxy: a warning, and the endpoint is tried directly as credential-process would', async (t) => {
  const proxy = await withProxy(t, { behaviour: 'tunnel' });
  const { checks } = await doctor([], { HTTPS_PROXY: proxy.url });
  t.same(named(checks, 'proxy'), [{
    check: 'proxy',
    status: 'warn',
    detail: `${proxy.url} (from HTTPS_PROXY) set in the environment but not used (credential-process uses it only with --with-proxy)`,
    fix: `if this machine reaches rolesanywhere.test:${endpoint.port} only through that proxy, add --with-proxy to the credential_process line (and to this doctor run)`,
  }]);
  // rolesanywhere.test resolves nowhere but in the proxy: directly, it cannot be reached.
  t.match(named(checks, 'endpoint'), [{ status: 'fail', detail: new RegExp(`^cannot reach https://rolesanywhere\\.test:${endpoint.port}/ \\((ENOTFOUND|EAI_AGAIN)\\)$`) }]);
  t.equal(proxy.connects, 0, 'the proxy was not used');
});

t.test('NO_PROXY naming the endpoint: no proxy, and the line says which variable matched', async (t) => {
  const proxy = await withProxy(t, { behaviour: 'tunnel' });
  const { checks } = await doctor(['--with-proxy'], { HTTPS_PROXY: proxy.url, NO_PROXY: '.test' });
  t.same(named(checks, 'proxy'), [{ check: 'proxy', status: 'ok', detail: `none: rolesanywhere.test:${endpoint.port} matches NO_PROXY` }]);
  t.equal(proxy.connects, 0);
});
