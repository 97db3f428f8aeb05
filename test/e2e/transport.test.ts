import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { runCli, isolatedEnv } from '../helpers/cli.js';
import { startEmulator } from '../../src/emulator/index.js';

let rig: Rig;
t.before(async () => {
  rig = await startRig();
});
t.teardown(async () => {
  await rig.close();
});

const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA/;

/**
 * A CONNECT proxy that knows one made-up host name, emulator.test, and tunnels it to the
 * emulator on 127.0.0.1. The name resolves nowhere else, so a success proves the proxy was used.
 */
async function startProxy(targetPort: number): Promise<{ url: string; tunnels: () => number; close(): void }> {
  let tunnels = 0;
  const server: Server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connect', (req, clientSocket, head) => {
    const [host] = (req.url ?? '').split(':');
    if (host !== 'emulator.test') {
      clientSocket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    tunnels++;
    const upstream = connect(targetPort, '127.0.0.1', () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on('error', () => clientSocket.destroy());
    clientSocket.on('error', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels: () => tunnels,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

t.test('--with-proxy sends CreateSession through HTTPS_PROXY/HTTP_PROXY and honours NO_PROXY', async (t) => {
  const id = await rig.issueFileIdentity('proxied');
  const port = new URL(rig.url).port;
  const proxy = await startProxy(Number(port));
  t.teardown(() => proxy.close());
  const args = ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags.slice(0, 6), '--endpoint', `http://emulator.test:${port}`];

  const viaProxy = await runCli([...args, '--with-proxy'], { env: isolatedEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url }) });
  t.equal(viaProxy.stderr, '');
  t.match(viaProxy.stdout, PROCESS_JSON);
  t.equal(proxy.tunnels(), 1, 'one tunnel through the proxy');

  const bypassed = await runCli([...args, '--with-proxy'], { env: isolatedEnv({ HTTP_PROXY: proxy.url, NO_PROXY: 'emulator.test' }) });
  t.not(bypassed.code, 0, 'NO_PROXY: the made-up name is looked up directly and fails');
  t.match(bypassed.stderr, /^roles-anywhere-signer: cannot reach http:\/\/emulator\.test:\d+\/sessions \((ENOTFOUND|EAI_AGAIN)\)/);
  t.equal(proxy.tunnels(), 1, 'the proxy was not used');

  const withoutFlag = await runCli(args, { env: isolatedEnv({ HTTP_PROXY: proxy.url }) });
  t.not(withoutFlag.code, 0, 'like the reference helper, proxies are used only with --with-proxy');
  t.equal(proxy.tunnels(), 1);
});

t.test('HTTPS endpoint: an untrusted certificate is refused clearly; --no-verify-ssl accepts it', async (t) => {
  const tlsDir = rig.dir;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(tlsDir, 'tls.key'), '-out', join(tlsDir, 'tls.crt')], { stdio: 'ignore' });
  const emulator = await startEmulator(
    {
      region: 'us-east-1',
      accountId: '123456789012',
      trustAnchors: [{ arn: rig.trustAnchorArn, certificates: [rig.root.certificatePem], enabled: true }],
      profiles: [{ arn: rig.profileArn, roleArns: [rig.roleArn], durationSeconds: 3600, acceptRoleSessionName: false, enabled: true }],
    },
    { port: 0, host: '127.0.0.1', tls: { certPem: readFileSync(join(tlsDir, 'tls.crt'), 'utf8'), keyPem: readFileSync(join(tlsDir, 'tls.key'), 'utf8') } },
  );
  t.teardown(() => emulator.close());
  t.match(emulator.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const id = await rig.issueFileIdentity('tls-client');
  const args = ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags.slice(0, 6), '--endpoint', emulator.url];

  const refused = await runCli(args);
  t.not(refused.code, 0);
  t.equal(refused.stdout, '');
  t.equal(refused.stderr, `roles-anywhere-signer: the TLS certificate of ${emulator.url}/sessions is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT): fix the endpoint's certificate or add its CA (behind a TLS-inspecting proxy: your company's CA) with AWS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS (--no-verify-ssl skips the check, for tests only)\n`);

  const accepted = await runCli([...args, '--no-verify-ssl']);
  t.equal(accepted.stderr, '');
  t.match(accepted.stdout, PROCESS_JSON);

  const trusted = await runCli(args, { env: isolatedEnv({ NODE_EXTRA_CA_CERTS: join(tlsDir, 'tls.crt') }) });
  t.equal(trusted.stderr, '', 'NODE_EXTRA_CA_CERTS makes the certificate trusted');
  t.match(trusted.stdout, PROCESS_JSON);
});

t.test('--role-session-name reaches the service; the profile decides whether it is allowed', async (t) => {
  const id = await rig.issueFileIdentity('named-session');
  const result = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags, '--role-session-name', 'alice@example']);
  t.equal(result.stderr, '');
  t.match(result.stdout, PROCESS_JSON);
  const bad = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, ...rig.sessionFlags, '--role-session-name', 'no spaces allowed']);
  t.equal(bad.stderr, 'roles-anywhere-signer: --role-session-name must be 2 to 64 characters of letters, digits and _+=,.@-\n');
});
