/**
 * enroll end to end, per key type: the real CLI generates the key inside a SoftHSM token,
 * OpenSSL (the test CA) issues a certificate for the request, enroll --import-certificate stores
 * it, and credential-process gets credentials from the emulator with it.
 */
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { execFileAsync, startEnrollRig } from './enroll-rig.js';

const { fixture, emulator, sessionFlags, PROCESS_JSON, withPin, token, issue, privateKeyAttributes } = await startEnrollRig(t);

t.test('enroll, issue, import, credential-process: for each key type', async (t) => {
  for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072']) {
    const label = `enrolled-${keyType}`;
    const csrPath = join(fixture.dir, `${label}.csr`);
    const enrolled = await runCli(['enroll', '--private-key', `${token};object=${label}`, '--pkcs11-lib', fixture.module, '--key-type', keyType,
      '--subject', `CN=${label},O=Example,C=US`, '--out', csrPath, '--json'], { env: withPin });
    t.equal(enrolled.stderr, '', `${keyType}: nothing on stderr`);
    t.equal(enrolled.code, 0, `${keyType}: exit 0`);
    const report = JSON.parse(enrolled.stdout) as { keyUri: string; label: string; id: string; sensitive: boolean; extractable: boolean; csrFile: string; nextSteps: string[] };
    t.equal(report.label, label);
    t.match(report.id, /^[0-9a-f]{16}$/, `${keyType}: an 8-byte id was chosen`);
    t.equal(report.keyUri, `${fixture.tokenUri};object=${label};type=private;id=${report.id.replace(/../g, (byte) => `%${byte.toUpperCase()}`)}`);
    t.same([report.sensitive, report.extractable], [true, false]);
    t.equal(report.csrFile, csrPath);
    t.equal(report.nextSteps.length, 3);

    const { stdout, stderr } = await execFileAsync('openssl', ['req', '-in', csrPath, '-verify', '-noout', '-subject']);
    t.match(`${stderr}${stdout}`, /verify OK/, `${keyType}: OpenSSL verifies the request`);
    t.match(stdout, `subject=C = US, O = Example, CN = ${label}`);

    t.same(privateKeyAttributes(label), [{ token: true, private: true, sensitive: true, extractable: false, neverExtractable: true, sign: true, valueRead: 'CKR_ATTRIBUTE_SENSITIVE' }],
      `${keyType}: the token says the key cannot leave it`);

    const certificatePath = join(fixture.dir, `${label}.crt`);
    await issue(csrPath, certificatePath);
    const imported = await runCli(['enroll', '--import-certificate', certificatePath, '--private-key', report.keyUri, '--pkcs11-lib', fixture.module], { env: withPin });
    t.equal(imported.stderr, '', `${keyType}: import, nothing on stderr`);
    t.equal(imported.code, 0, `${keyType}: import exit 0`);
    const certificateUri = report.keyUri.replace(';type=private;', ';type=cert;');
    t.match(imported.stdout, `  certificate: ${certificateUri}\n`);

    const before = emulator.stats.createSession;
    const credentials = await runCli(['credential-process', '--certificate', certificateUri, '--pkcs11-lib', fixture.module, ...sessionFlags], { env: withPin });
    t.equal(credentials.stderr, '', `${keyType}: credential-process, nothing on stderr`);
    t.match(credentials.stdout, PROCESS_JSON, `${keyType}: credentials`);
    t.equal(emulator.stats.createSession, before + 1, `${keyType}: the emulator accepted the enrolled key and certificate`);
  }
});

