import t from 'tap';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { mkdir, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startRig, startTlsEmulator, type Rig } from '../helpers/emulator-rig.js';
import { runCli, isolatedEnv } from '../helpers/cli.js';
import { startConnectProxy, closedPort, type TestProxy, type TestProxyOptions } from '../helpers/connect-proxy.js';
import { createPrivateCa, type PrivateCa } from '../helpers/private-ca.js';

/**
 * Behind a corporate proxy and a private CA, end to end: the real CLI, the emulator serving
 * HTTPS with a certificate from a company CA, and a CONNECT proxy on 127.0.0.1 in each of the
 * ways a proxy can behave. The endpoint is named rolesanywhere.test: only the proxy knows it
 * (it tunnels to 127.0.0.1), so a success proves the proxy was used.
 */
const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA/;

let rig: Rig;
let companyCa: PrivateCa;
let tlsEndpoint: { url: string; port: number; close(): Promise<void> };
let baseArgs: string[];

t.before(async () => {
  rig = await startRig();
  companyCa = await createPrivateCa(rig.dir, 'Company');
  const server = await companyCa.issueServer('rolesanywhere.test', ['DNS:rolesanywhere.test', 'IP:127.0.0.1']);
  tlsEndpoint = await startTlsEmulator(rig, server);
  const id = await rig.issueFileIdentity('behind-proxy');
  baseArgs = ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags.slice(0, 6)];
});
t.teardown(async () => {
  await tlsEndpoint.close();
  await rig.close();
});

/** No ~/.aws/config of whoever runs the tests, no inherited CA settings. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return isolatedEnv({ AWS_CONFIG_FILE: join(rig.dir, 'no-such-config'), NODE_EXTRA_CA_CERTS: undefined, ...extra });
}

async function withProxy(t: { teardown(fn: () => unknown): void }, options: TestProxyOptions): Promise<TestProxy> {
  const proxy = await startConnectProxy(options);
  t.teardown(() => proxy.close());
  return proxy;
}

const viaName = (): string => `https://rolesanywhere.test:${tlsEndpoint.port}`;

t.test('private CA, no proxy: untrusted by default; AWS_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR and ca_bundle each make it trusted', async (t) => {
  const args = [...baseArgs, '--endpoint', tlsEndpoint.url];
  const untrusted = await runCli(args, { env: env() });
  t.equal(untrusted.code, 1);
  t.equal(untrusted.stdout, '');
  t.equal(untrusted.stderr, `roles-anywhere-signer: the TLS certificate of ${tlsEndpoint.url}/sessions is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): fix the endpoint's certificate or add its CA (behind a TLS-inspecting proxy: your company's CA) with AWS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS (--no-verify-ssl skips the check, for tests only)\n`);

  const certDir = join(rig.dir, 'certs.d');
  await mkdir(certDir, { recursive: true });
  await copyFile(companyCa.certificatePath, join(certDir, 'company.pem'));
  const configPath = join(rig.dir, 'aws-config');
  await writeFile(configPath, `[default]\nregion = us-east-1\n\n[profile corp]\nca_bundle = ${companyCa.certificatePath}\n`);
  const settings: ReadonlyArray<readonly [string, Record<string, string>]> = [
    ['AWS_CA_BUNDLE', { AWS_CA_BUNDLE: companyCa.certificatePath }],
    ['SSL_CERT_FILE', { SSL_CERT_FILE: companyCa.certificatePath }],
    ['SSL_CERT_DIR', { SSL_CERT_DIR: `${join(rig.dir, 'missing')}:${certDir}` }],
    ['ca_bundle of the AWS_PROFILE profile', { AWS_CONFIG_FILE: configPath, AWS_PROFILE: 'corp' }],
  ];
  for (const [name, extra] of settings) {
    const trusted = await runCli(args, { env: env(extra) });
    t.equal(trusted.stderr, '', name);
    t.match(trusted.stdout, PROCESS_JSON, name);
  }

  const debug = await runCli([...args, '--debug'], { env: env({ AWS_CONFIG_FILE: configPath, AWS_PROFILE: 'corp', AWS_CA_BUNDLE: join(rig.dir, 'missing.pem') }) });
  t.equal(debug.code, 1, 'AWS_CA_BUNDLE wins over ca_bundle, even when it names a missing file');
  t.match(debug.stderr, `roles-anywhere-signer: AWS_CA_BUNDLE names ${join(rig.dir, 'missing.pem')}, which cannot be read: fix the path or unset it\n`);
  const which = await runCli([...args, '--debug'], { env: env({ AWS_CONFIG_FILE: configPath, AWS_PROFILE: 'corp', AWS_CA_BUNDLE: companyCa.certificatePath }) });
  t.match(which.stdout, PROCESS_JSON);
  t.match(which.stderr, `debug: trusting 1 CA certificate(s) from AWS_CA_BUNDLE ${companyCa.certificatePath} in place of the built-in roots; ca_bundle of profile corp in ${configPath} is not used (AWS_CA_BUNDLE wins)\n`, '--debug says which setting won');
});

t.test('through a CONNECT proxy to a private-CA endpoint: one tunnel, credentials out', async (t) => {
  const proxy = await withProxy(t, { behaviour: 'tunnel' });
  const result = await runCli([...baseArgs, '--endpoint', viaName(), '--with-proxy', '--debug'], { env: env({ HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: companyCa.certificatePath }) });
  t.match(result.stdout, PROCESS_JSON);
  t.match(result.stderr, `debug: through the proxy ${proxy.url} (from HTTPS_PROXY)\n`);
  t.equal(proxy.connects, 1);

  const untrusted = await runCli([...baseArgs, '--endpoint', viaName(), '--with-proxy'], { env: env({ HTTPS_PROXY: proxy.url }) });
  t.equal(untrusted.code, 1);
  t.equal(untrusted.stderr, `roles-anywhere-signer: the TLS certificate of ${viaName()}/sessions is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): fix the endpoint's certificate or add its CA (behind a TLS-inspecting proxy: your company's CA) with AWS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS (--no-verify-ssl skips the check, for tests only)\n`);
  t.equal(proxy.connects, 2, 'an untrusted certificate is not retried');
});

t.test('a proxy that wants credentials: 407 said plainly, never retried; percent-encoded user:password works', async (t) => {
  const proxy = await withProxy(t, { behaviour: 'require-auth', credentials: { user: 'alice', password: 'p@ss:w rd' } });
  const caEnv = { AWS_CA_BUNDLE: companyCa.certificatePath };
  const args = [...baseArgs, '--endpoint', viaName(), '--with-proxy'];

  const without = await runCli(args, { env: env({ ...caEnv, HTTPS_PROXY: proxy.url }) });
  t.equal(without.code, 1);
  t.equal(without.stdout, '');
  t.equal(without.stderr, `roles-anywhere-signer: the proxy ${proxy.url} (from HTTPS_PROXY) requires authentication (407 Proxy Authentication Required): put the user name and password in HTTPS_PROXY, percent-encoded, as http://user:password@host:port\n`);
  t.equal(proxy.connects, 1, 'one CONNECT: a 407 is not retried');

  const withUrl = (user: string, password: string): string => proxy.url.replace('http://', `http://${user}:${password}@`);
  const wrong = await runCli(args, { env: env({ ...caEnv, https_proxy: withUrl('alice', 'n0t-1t') }) });
  t.equal(wrong.stderr, `roles-anywhere-signer: the proxy ${proxy.url} (from https_proxy) refused the user name and password given in https_proxy (407): check them; in the URL, characters such as @ : / % must be percent-encoded (@ is %40)\n`);
  t.notMatch(wrong.stderr, 'n0t-1t', 'the password is never shown');
  t.equal(proxy.connects, 2);

  const right = await runCli(args, { env: env({ ...caEnv, HTTPS_PROXY: withUrl('alice', 'p%40ss%3Aw%20rd') }) });
  t.equal(right.stderr, '');
  t.match(right.stdout, PROCESS_JSON);
  t.equal(proxy.connects, 3);
});

t.test('a proxy that refuses the tunnel (502) or drops it: one line with the status, one CONNECT, no retry', async (t) => {
  const refusing = await withProxy(t, { behaviour: 'answer-502' });
  const args = [...baseArgs, '--endpoint', viaName(), '--with-proxy'];
  const refused = await runCli(args, { env: env({ HTTPS_PROXY: refusing.url }) });
  t.equal(refused.code, 1);
  t.equal(refused.stdout, '');
  t.equal(refused.stderr, `roles-anywhere-signer: the proxy ${refusing.url} (from HTTPS_PROXY) refused the tunnel to rolesanywhere.test:${tlsEndpoint.port} (502 Bad Gateway): the proxy cannot reach that host or does not allow it; check --endpoint with whoever runs the proxy, or add the host to NO_PROXY if it must be reached directly\n`);
  t.equal(refusing.connects, 1);

  const dropping = await withProxy(t, { behaviour: 'close-tunnel' });
  const dropped = await runCli(args, { env: env({ HTTPS_PROXY: dropping.url }) });
  t.equal(dropped.code, 1);
  t.equal(dropped.stderr, `roles-anywhere-signer: the proxy ${dropping.url} (from HTTPS_PROXY) accepted the tunnel to rolesanywhere.test:${tlsEndpoint.port} and then closed it without an answer: the proxy probably cannot reach that host or blocks it; check --endpoint with whoever runs the proxy, or add the host to NO_PROXY if it must be reached directly\n`);
  t.equal(dropping.connects, 1, 'the endless reconnecting of issue 16 is gone: one CONNECT');

  const plainArgs = [...baseArgs, '--endpoint', `http://plain.test:${new URL(rig.url).port}`, '--with-proxy'];
  const droppedPlain = await runCli(plainArgs, { env: env({ HTTP_PROXY: dropping.url }) });
  t.equal(droppedPlain.stderr, `roles-anywhere-signer: the proxy ${dropping.url} (from HTTP_PROXY) accepted the tunnel to plain.test:${new URL(rig.url).port} and then closed it without an answer: the proxy probably cannot reach that host or blocks it; check --endpoint with whoever runs the proxy, or add the host to NO_PROXY if it must be reached directly\n`);
  t.equal(dropping.connects, 2, 'an http:// endpoint behind a dropped tunnel: one CONNECT too');
});

t.test('a proxy that is down, and an https proxy whose own certificate is untrusted', async (t) => {
  const port = await closedPort();
  const args = [...baseArgs, '--endpoint', viaName(), '--with-proxy'];
  const down = await runCli(args, { env: env({ HTTPS_PROXY: `http://bob:s3cr3t@127.0.0.1:${port}` }) });
  t.equal(down.code, 1);
  t.equal(down.stdout, '');
  t.equal(down.stderr, `roles-anywhere-signer: cannot connect to the proxy http://127.0.0.1:${port} (from HTTPS_PROXY) (ECONNREFUSED): check that the proxy runs and that HTTPS_PROXY names it, or leave out --with-proxy\n`);
  const debugged = await runCli([...args, '--debug'], { env: env({ HTTPS_PROXY: `http://bob:s3cr3t@127.0.0.1:${port}` }) });
  t.match(debugged.stderr, `debug: through the proxy http://127.0.0.1:${port} (from HTTPS_PROXY)\n`);
  t.match(debugged.stderr, 'debug: error code PROXY_UNREACHABLE\n');
  t.notMatch(debugged.stderr, /s3cr3t|bob/, 'neither the proxy password nor the user, with --debug');

  const otherCa = await createPrivateCa(rig.dir, 'Other');
  const proxyTls = await otherCa.issueServer('proxy', ['IP:127.0.0.1']);
  const secureProxy = await withProxy(t, { behaviour: 'tunnel', tls: proxyTls });
  const untrusted = await runCli(args, { env: env({ HTTPS_PROXY: secureProxy.url, AWS_CA_BUNDLE: companyCa.certificatePath }) });
  t.equal(untrusted.code, 1);
  t.equal(untrusted.stderr, `roles-anywhere-signer: the TLS certificate of the proxy ${secureProxy.url} (from HTTPS_PROXY) is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): add the CA that issued it with AWS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS, or use the proxy's http:// address\n`);
  t.equal(secureProxy.connections, 1, 'one connection: a TLS trust failure is not retried');
  t.equal(secureProxy.connects, 0);

  const bundle = join(rig.dir, 'both-cas.pem');
  const { readFile } = await import('node:fs/promises');
  await writeFile(bundle, `${await readFile(companyCa.certificatePath, 'utf8')}${await readFile(otherCa.certificatePath, 'utf8')}`);
  const trusted = await runCli(args, { env: env({ HTTPS_PROXY: secureProxy.url, AWS_CA_BUNDLE: bundle }) });
  t.equal(trusted.stderr, '', 'the same CA settings serve the https:// proxy and the endpoint');
  t.match(trusted.stdout, PROCESS_JSON);
  t.equal(secureProxy.connects, 1);
});

t.test('a proxy that never answers: --timeout bounds the whole call', async (t) => {
  const silent = await withProxy(t, { behaviour: 'hang' });
  const result = await runCli([...baseArgs, '--endpoint', viaName(), '--with-proxy', '--timeout', '2'], { env: env({ HTTPS_PROXY: silent.url }), timeoutMs: 30_000 });
  t.equal(result.code, 1);
  t.equal(result.stdout, '');
  t.equal(result.stderr, `roles-anywhere-signer: no answer from ${viaName()}/sessions within the 2 s deadline (--timeout): check --endpoint and your network or proxy\n`);
  t.equal(silent.connects, 1, 'no time was left for a second attempt');

  const bad = await runCli([...baseArgs, '--endpoint', viaName(), '--timeout', 'soon'], { env: env() });
  t.equal(bad.code, 2);
  t.equal(bad.stderr, 'roles-anywhere-signer: --timeout "soon" is not a number of seconds (1 to 300)\n');
  const outOfRange = await runCli([...baseArgs, '--endpoint', viaName(), '--timeout', '900'], { env: env() });
  t.equal(outOfRange.stderr, 'roles-anywhere-signer: --timeout 900 is out of range: use seconds from 1 to 300\n');
});

t.test('serve and update --once are bounded by --timeout too', async (t) => {
  const silent = await withProxy(t, { behaviour: 'hang' });
  const keyAndSession = baseArgs.slice(1);
  const line = `roles-anywhere-signer: no answer from ${viaName()}/sessions within the 1 s deadline (--timeout): check --endpoint and your network or proxy`;
  const served = await runCli(['serve', '--port', '0', ...keyAndSession, '--endpoint', viaName(), '--with-proxy', '--timeout', '1'], {
    env: env({ HTTPS_PROXY: silent.url, ROLES_ANYWHERE_NO_NATIVE: '1' }),
    timeoutMs: 30_000,
  });
  t.equal(served.code, 1, 'serve fails fast when the first credentials cannot be had');
  t.equal(served.stdout, '');
  t.equal(served.stderr.trimEnd().split('\n').pop(), line);
  t.equal(silent.connects, 1);

  const updated = await runCli(['update', '--once', ...keyAndSession, '--endpoint', viaName(), '--with-proxy', '--timeout', '1'], {
    env: env({ HTTPS_PROXY: silent.url, AWS_SHARED_CREDENTIALS_FILE: join(rig.dir, 'credentials') }),
    timeoutMs: 30_000,
  });
  t.equal(updated.code, 1);
  t.equal(updated.stderr, `${line}\n`);
  t.equal(silent.connects, 2);
});

t.test('an answer over 1 MiB is refused as such, once, directly and through a proxy', async (t) => {
  let requests = 0;
  const huge: Server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(201, { 'content-type': 'application/json' });
    // 200 MB announced by streaming, not by Content-Length: the cap must count bytes.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < 200 * 1024 * 1024 && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  huge.listen(0, '127.0.0.1');
  await once(huge, 'listening');
  t.teardown(() => {
    huge.closeAllConnections();
    huge.close();
  });
  const port = (huge.address() as AddressInfo).port;
  const direct = await runCli([...baseArgs, '--endpoint', `http://127.0.0.1:${port}`], { env: env() });
  t.equal(direct.code, 1);
  t.equal(direct.stdout, '');
  t.equal(direct.stderr, `roles-anywhere-signer: http://127.0.0.1:${port}/sessions answered with more than 1 MiB, far more than any CreateSession answer: check that --endpoint points at IAM Roles Anywhere and that no proxy or portal answers in its place\n`);
  t.equal(requests, 1, 'not retried');

  const proxy = await withProxy(t, { behaviour: 'tunnel' });
  const proxied = await runCli([...baseArgs, '--endpoint', `http://huge.test:${port}`, '--with-proxy'], { env: env({ HTTP_PROXY: proxy.url }) });
  t.equal(proxied.stderr, `roles-anywhere-signer: http://huge.test:${port}/sessions answered with more than 1 MiB, far more than any CreateSession answer: check that --endpoint points at IAM Roles Anywhere and that no proxy or portal answers in its place\n`);
  t.equal(requests, 2);
  t.equal(proxy.connects, 1);
});

t.test('loopback endpoints never go through the proxy (Go\'s rule); NO_PROXY is covered in transport.test.ts', async (t) => {
  const proxy = await withProxy(t, { behaviour: 'answer-502' });
  const result = await runCli([...baseArgs, '--endpoint', tlsEndpoint.url, '--with-proxy', '--debug'], {
    env: env({ HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: companyCa.certificatePath }),
  });
  t.match(result.stdout, PROCESS_JSON);
  t.match(result.stderr, 'debug: no proxy: 127.0.0.1 is a loopback address, never proxied\n');
  t.equal(proxy.connections, 0);
});
