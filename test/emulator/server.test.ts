import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import t from 'tap';
import { startEmulator } from '../../src/emulator/index.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';

const root = await createCertificateAuthority({ subject: 'CN=Server Test Root', keyAlgorithm: 'EC-P256' });
const config = {
  region: 'us-east-1',
  accountId: '123456789012',
  trustAnchors: [{ arn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t', certificates: [root.certificatePem] }],
  profiles: [{ arn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p', roleArns: ['arn:aws:iam::123456789012:role/r'] }],
};

t.test('serves HTTPS with the given certificate and key', async (t) => {
  const serverKey = generateKeyPair('EC-P256');
  const serverCertificate = await issueLeafCertificate({ issuer: root, subject: 'CN=127.0.0.1', publicKey: serverKey.publicKey, keyUsage: ['digitalSignature', 'keyAgreement'] });
  const emulator = await startEmulator(config, { tls: { certPem: serverCertificate.certificatePem, keyPem: serverKey.privateKeyPem } });
  t.teardown(() => emulator.close());
  t.match(emulator.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const answer = await new Promise<{ status: number; type: string | undefined; body: string; peer: string }>((resolve, reject) => {
    const request = httpsRequest(
      `${emulator.url}/sessions`,
      // The test CA is the trust root; the certificate has no IP SAN, so skip the name check only.
      { method: 'POST', ca: root.certificatePem, checkServerIdentity: () => undefined },
      (response) => {
        let body = '';
        const peer = String((response.socket as TLSSocket).getPeerCertificate().subject.CN);
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, type: response.headers['x-amzn-errortype'] as string | undefined, body, peer });
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
  t.same(answer, { status: 403, type: 'AccessDeniedException', body: '{"message":"Missing Authentication Token"}', peer: '127.0.0.1' });
});

t.test('refuses bodies over 1 MiB with 413', async (t) => {
  const emulator = await startEmulator(config);
  t.teardown(() => emulator.close());
  const response = await fetch(`${emulator.url}/sessions`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
  t.equal(response.status, 413);
  t.same(await response.json(), { message: 'Request body exceeds 1048576 bytes.' });
});

t.test('stats count requests per operation; close() is idempotent', async (t) => {
  const emulator = await startEmulator(config);
  await fetch(`${emulator.url}/sessions`, { method: 'POST' });
  await fetch(`${emulator.url}/sessions`, { method: 'POST' });
  await fetch(`${emulator.url}/`, { method: 'POST', body: 'Action=GetCallerIdentity' });
  t.same(emulator.stats, { createSession: 2, getCallerIdentity: 1 });
  await Promise.all([emulator.close(), emulator.close()]);
  await emulator.close();
});
