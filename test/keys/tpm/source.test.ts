import { X509Certificate, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isSignerError } from '../../../src/errors.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../../src/emulator/pki.js';
import type { TpmKeySpec } from '../../../src/keys/spec.js';
import { getCapabilityCommand } from '../../../src/keys/tpm/commands.js';
import { TPM_CAP } from '../../../src/keys/tpm/constants.js';
import { openTpmKeySource, type TpmSourceOptions } from '../../../src/keys/tpm/source.js';
import type { KeySource } from '../../../src/keys/types.js';
import { ALL_TPM_KEYS, FIXTURE_KEY_PASSWORD, type TpmKeyFixture, type TpmKeyName } from '../../../scripts/fixtures/swtpm.js';
import { runKeySourceConformance } from '../conformance.js';
import { keyRig, noTerminalSecretIO as secretIO, swtpmFor, tpm2Tool, transientHandles, unixTwinOf, withClient, type KeyRig } from './rig.js';

let rig: KeyRig;
let fixture: KeyRig['fixture'];
let swtpm: KeyRig['swtpm'];
let otherCertificates: Record<'EC' | 'RSA', Uint8Array>;

t.before(async () => {
  rig = await keyRig(t);
  ({ fixture, swtpm } = rig);
  const ca = await createCertificateAuthority({ subject: 'CN=unrelated CA', keyAlgorithm: 'EC-P256' });
  otherCertificates = {
    EC: (await issueLeafCertificate({ issuer: ca, subject: 'CN=other EC', publicKey: generateKeyPair('EC-P256').publicKey })).certificateDer,
    RSA: (await issueLeafCertificate({ issuer: ca, subject: 'CN=other RSA', publicKey: generateKeyPair('RSA-2048').publicKey })).certificateDer,
  };
});

function key(name: TpmKeyName): TpmKeyFixture {
  const entry = fixture.keys[name];
  if (entry === undefined) throw new Error(`fixture has no ${name}`);
  return entry;
}

function specFor(entry: TpmKeyFixture, extra: Partial<TpmKeySpec> = {}): TpmKeySpec {
  return {
    kind: 'tpm',
    ...(entry.keyPath !== undefined ? { keyFile: entry.keyPath } : { handle: entry.handle as number }),
    password: entry.password !== undefined ? { value: entry.password } : {},
    noPassword: entry.handle !== undefined && entry.password === undefined,
    tcti: fixture.tcti,
    ...extra,
  };
}

function open(spec: TpmKeySpec, options: TpmSourceOptions = {}): Promise<KeySource> {
  return openTpmKeySource(spec, { ...options, io: { secretIO: secretIO(), ...options.io } });
}

async function failureOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

async function lockoutCounter(): Promise<number> {
  return withClient(swtpm, async (client) => {
    const { data } = await client.run(getCapabilityCommand({ capability: TPM_CAP.TPM_PROPERTIES, property: 0x20e, propertyCount: 1 }));
    if (data.capability !== TPM_CAP.TPM_PROPERTIES || data.properties[0]?.property !== 0x20e) throw new Error('no TPM_PT_LOCKOUT_COUNTER');
    return data.properties[0].value;
  });
}

t.test('every fixture key passes the KeySource conformance suite over TCP', async (t) => {
  for (const name of ALL_TPM_KEYS) {
    const entry = key(name);
    await runKeySourceConformance(t, `TPM ${name}`, () => open(specFor(entry)), {
      keyType: entry.keyType,
      certificateDer: entry.certificateDer,
      otherCertificateDer: otherCertificates[entry.keyType],
      secrets: entry.password !== undefined ? [entry.password] : [],
    });
    t.same(await transientHandles(swtpm), [], `${name}: no transient object is left in the TPM`);
  }
});

t.test('flushing after every signature (keepLoaded false)', async (t) => {
  await runKeySourceConformance(t, 'TPM ec-p256, keepLoaded false', () => open(specFor(key('ec-p256')), { keepLoaded: false }), {
    keyType: 'EC',
    certificateDer: key('ec-p256').certificateDer,
    otherCertificateDer: otherCertificates.EC,
  });
  t.same(await transientHandles(swtpm), [], 'no transient object is left');
});

t.test('the password from ROLES_ANYWHERE_TPM_KEY_PASSWORD', async (t) => {
  const entry = key('persistent-ec-p256-password');
  const source = await openTpmKeySource(specFor(entry, { password: { envVar: 'ROLES_ANYWHERE_TPM_KEY_PASSWORD' } }), {
    io: { secretIO: secretIO({ ROLES_ANYWHERE_TPM_KEY_PASSWORD: FIXTURE_KEY_PASSWORD }) },
  });
  t.teardown(() => source.close());
  const message = Buffer.from('env password');
  t.ok(verify('sha256', message, new X509Certificate(entry.certificateDer).publicKey, await source.sign(message)));
  t.equal(source.description, 'handle:0x81000102');
});

t.test('over swtpm\'s UNIX socket (same TPM state)', async (t) => {
  const twin = await unixTwinOf(t, rig);
  const entry = key('ec-p256');
  await runKeySourceConformance(t, 'TPM ec-p256 over a UNIX socket', () => open(specFor(entry, { tcti: twin.tcti })), {
    keyType: 'EC',
    certificateDer: entry.certificateDer,
    otherCertificateDer: otherCertificates.EC,
  });
  t.same(await transientHandles(twin), []);
});

t.test('certificates in the key file: the first is the leaf, the rest the chain', async (t) => {
  const entry = key('ec-p256');
  const bundle = join(rig.dir, 'bundle.pem');
  writeFileSync(bundle, readFileSync(entry.keyPath as string, 'utf8') + readFileSync(entry.certificatePath, 'utf8') + fixture.ca.certificatePem);
  const source = await open(specFor(entry, { keyFile: bundle }));
  t.teardown(() => source.close());
  t.ok(Buffer.from(source.certificate ?? []).equals(Buffer.from(entry.certificateDer)));
  t.same(source.chain?.map((der) => Buffer.from(der).toString('hex')), [Buffer.from(fixture.ca.certificateDer).toString('hex')]);

  const plain = await open(specFor(entry));
  t.equal(plain.certificate, undefined, 'a key file without certificates provides none');
  t.equal(plain.chain, undefined);
  await plain.close();
});

t.test('a wrong password: reported once, never sent again, one lockout count, nothing leaked', async (t) => {
  const entry = key('ec-p256-password');
  const wrong = 'not-the-password';
  const before = await lockoutCounter();
  const source = await open(specFor(entry, { password: { value: wrong } }));
  const expected = {
    code: 'TPM_AUTH_FAILED',
    message: `the password for the TPM key ${entry.keyPath} is wrong; each wrong password counts toward the TPM's dictionary-attack lockout, so it is not tried again: check --tpm-key-password or ROLES_ANYWHERE_TPM_KEY_PASSWORD`,
  };
  const first = await failureOf(source.sign(Buffer.from('a')));
  t.has(first, expected);
  const second = await failureOf(source.sign(Buffer.from('b')));
  t.has(second, expected, 'the second call fails the same way');
  await source.close();
  t.equal(await lockoutCounter(), before + 1, 'the TPM saw exactly one wrong password');
  for (const error of [first, second]) {
    t.notOk(error.message.includes(wrong), 'the message holds no password');
    t.notOk(String(error.cause).includes(wrong), 'the cause holds no password');
  }
  t.same(await transientHandles(swtpm), []);
});

t.test('a password key without a password', async (t) => {
  const entry = key('ec-p256-password');
  const noTerminal = await failureOf(open(specFor(entry, { password: { envVar: 'ROLES_ANYWHERE_TPM_KEY_PASSWORD' } })));
  t.has(noTerminal, {
    code: 'KEY_PASSWORD_REQUIRED',
    message: `Password for TPM key ${entry.keyPath} is needed but there is no terminal to ask on: pass --tpm-key-password, set ROLES_ANYWHERE_TPM_KEY_PASSWORD, or pass --no-tpm-key-password if the key has no password`,
  });

  const told = await open(specFor(entry, { password: {}, noPassword: true }));
  t.has(await failureOf(told.sign(Buffer.from('x'))), {
    code: 'TPM_AUTH_FAILED',
    message: `the TPM key ${entry.keyPath} needs a password but none was given (the key file says emptyAuth, or --no-tpm-key-password): pass --tpm-key-password or set ROLES_ANYWHERE_TPM_KEY_PASSWORD`,
  });
  await told.close();
  t.same(await transientHandles(swtpm), []);
});

t.test('an emptyAuth key ignores a password it was given', async (t) => {
  const entry = key('ec-p256');
  const source = await open(specFor(entry, { password: { value: 'unused' } }));
  t.teardown(() => source.close());
  const message = Buffer.from('x');
  t.ok(verify('sha256', message, new X509Certificate(entry.certificateDer).publicKey, await source.sign(message)));
});

t.test('a TPM restart while the key is loaded: reloaded, started, signed', async (t) => {
  const entry = key('ec-p256');
  const certificateKey = new X509Certificate(entry.certificateDer).publicKey;
  const source = await open(specFor(entry));
  const message = Buffer.from('before and after');
  t.ok(verify('sha256', message, certificateKey, await source.sign(message)));
  // A reboot without TPM2_Startup: the kept handle is gone and the TPM needs starting.
  await swtpm.restart({ startupClear: false });
  t.ok(verify('sha256', message, certificateKey, await source.sign(message)), 'signs after the restart');
  t.ok(verify('sha256', message, certificateKey, await source.sign(message)), 'and again');
  await source.close();
  t.same(await transientHandles(swtpm), []);

  const persistent = key('persistent-ec-p256');
  const byHandle = await open(specFor(persistent));
  await swtpm.restart();
  t.ok(verify('sha256', message, new X509Certificate(persistent.certificateDer).publicKey, await byHandle.sign(message)), 'a persistent key survives a restart');
  await byHandle.close();
});

t.test('the simulator goes away and comes back', async (t) => {
  const entry = key('rsa-2048');
  const source = await open(specFor(entry));
  t.teardown(() => source.close());
  await swtpm.stop();
  // Usually the port refuses; when tests run in parallel another simulator may already have
  // taken the freed port and hang up on a stranger. Either way the user reads why.
  const failure = await failureOf(source.sign(Buffer.from('x')));
  const refused = `nothing accepts connections at swtpm 127.0.0.1:${swtpm.port} (from the TCTI setting) (ECONNREFUSED): start the TPM simulator or fix the TCTI`;
  const hungUp = new RegExp(`^(the connection to swtpm 127\\.0\\.0\\.1:${swtpm.port} failed \\((EPIPE|ECONNRESET)\\) before the TPM answered|swtpm 127\\.0\\.0\\.1:${swtpm.port} closed the connection before answering: check that the TPM simulator is running and serves no other client)$`);
  if (failure.code === 'TPM_UNAVAILABLE') t.equal(failure.message, refused);
  else t.match(failure, { code: 'TPM_TRANSPORT_FAILED', message: hungUp });
  await swtpm.restart();
  const message = Buffer.from('back');
  t.ok(verify('sha256', message, new X509Certificate(entry.certificateDer).publicKey, await source.sign(message)), 'signs once the TPM is back');
});

t.test('keys that do not belong to this TPM, and missing keys', async (t) => {
  const other = await swtpmFor(t, { mode: 'unix' });
  const foreign = key('ec-p256');
  t.has(await failureOf((async () => {
    const source = await open(specFor(foreign, { tcti: other.tcti }));
    try {
      await source.sign(Buffer.from('x'));
    } finally {
      await source.close();
    }
  })()), {
    code: 'TPM_KEYFILE_INVALID',
    message: `the TPM at UNIX socket ${other.socketPath} refuses to load ${foreign.keyPath} under parent 0x40000001 (TPM_RC_INTEGRITY): the key was made on another TPM, or this TPM was cleared since`,
  });

  const orphan = key('ec-p256-under-persistent');
  const orphanSource = await open(specFor(orphan, { tcti: other.tcti }));
  t.has(await failureOf(orphanSource.sign(Buffer.from('x'))), {
    code: 'TPM_PARENT_NOT_FOUND',
    message: `the parent key 0x81000001 of ${orphan.keyPath} is not in the TPM at UNIX socket ${other.socketPath}: make it persistent again (tpm2_evictcontrol) or use the TPM the key was made on`,
  });
  await orphanSource.close();

  t.has(await failureOf(open(specFor(key('persistent-ec-p256'), { tcti: other.tcti }))), {
    code: 'KEY_NOT_FOUND',
    message: `there is no key at handle:0x81000101 in the TPM at UNIX socket ${other.socketPath}: list persistent keys with tpm2_getcap handles-persistent`,
  });
  t.same(await transientHandles(other), [], 'failed loads leave nothing behind');
});

t.test('bad input before the TPM is asked anything', async (t) => {
  const entry = key('ec-p256');
  const missing = join(rig.dir, 'missing.pem');
  t.has(await failureOf(open(specFor(entry, { keyFile: missing }))), {
    code: 'KEY_NOT_FOUND',
    message: `the TPM key file ${missing} does not exist: check --private-key`,
  });
  const foreign = join(rig.dir, 'foreign.pem');
  writeFileSync(foreign, generateKeyPair('EC-P256').privateKeyPem);
  t.has(await failureOf(open(specFor(entry, { keyFile: foreign }))), {
    code: 'TPM_KEYFILE_INVALID',
    message: `${foreign} is not a TPM key file: it holds only "PRIVATE KEY", not a "TSS2 PRIVATE KEY": give a key made by tpm2-openssl or tpm2_encodeobject, or handle:0x81...`,
  });
  t.has(await failureOf(open({ ...specFor(entry), handle: 0x81000101 })), {
    code: 'USAGE',
    message: 'a TPM key is either a TSS2 key file or a persistent handle: give exactly one of them',
  });
  t.has(await failureOf(open({ kind: 'tpm', handle: 0x80000001, password: {}, noPassword: true, tcti: fixture.tcti })), {
    code: 'USAGE',
    message: 'handle:0x80000001 is not a persistent handle: use one in 0x81000000-0x81FFFFFF (tpm2_getcap handles-persistent lists them)',
  });
  t.has(await failureOf(open(specFor(entry, { tcti: 'swtpm:host=127.0.0.1,port=1' }))), {
    code: 'TPM_UNAVAILABLE',
    message: 'nothing accepts connections at swtpm 127.0.0.1:1 (from the TCTI setting) (ECONNREFUSED): start the TPM simulator or fix the TCTI',
  });
  const unknownDigest = await open(specFor(entry));
  t.has(await failureOf(unknownDigest.sign(Buffer.from('x'), 'MD5' as 'SHA256')), { code: 'USAGE', message: 'unknown digest MD5: use SHA256, SHA384 or SHA512' });
  await unknownDigest.close();
  t.has(await failureOf(unknownDigest.sign(Buffer.from('x'))), { code: 'INTERNAL', message: `the key source ${entry.keyPath} is closed: open it again before signing` });
  t.ok(isSignerError(await failureOf(open(specFor(entry, { tcti: 'mssim' })))), 'unsupported TCTIs are SignerErrors');
});

t.test('TPM states and keys that refuse to sign, each named (on a simulator of its own)', async (t) => {
  const own = await keyRig(t, ['ec-p256', 'ec-p256-password', 'ec-p256-under-persistent']);
  const tcti = own.fixture.tcti;
  const where = `swtpm 127.0.0.1:${own.swtpm.port}`;
  const ownKey = (name: TpmKeyName): TpmKeyFixture => {
    const entry = own.fixture.keys[name];
    if (entry === undefined) throw new Error(`fixture has no ${name}`);
    return entry;
  };
  const signOnce = async (spec: TpmKeySpec): Promise<{ message: Buffer; signature: Uint8Array }> => {
    const source = await open(spec);
    try {
      const message = Buffer.from('refusals');
      return { message, signature: await source.sign(message) };
    } finally {
      await source.close();
    }
  };
  const signsFor = async (entry: TpmKeyFixture, spec: TpmKeySpec): Promise<boolean> => {
    const { message, signature } = await signOnce(spec);
    return verify('sha256', message, new X509Certificate(entry.certificateDer).publicKey, signature);
  };

  await t.test('a key fixed to ECDSA with SHA-384 cannot make the SHA-256 signature SigV4-X509 needs', async (t) => {
    const base = join(own.dir, 'fixed-scheme');
    await tpm2Tool(own.swtpm, 'tpm2_create', ['-C', '0x81000001', '-G', 'ecc256:ecdsa-sha384', '-a', 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign', '-u', `${base}.pub`, '-r', `${base}.priv`]);
    await tpm2Tool(own.swtpm, 'tpm2_encodeobject', ['-C', '0x81000001', '-u', `${base}.pub`, '-r', `${base}.priv`, '-o', `${base}.pem`]);
    await tpm2Tool(own.swtpm, 'tpm2_flushcontext', ['-t']);
    t.has(await failureOf(signOnce({ kind: 'tpm', keyFile: `${base}.pem`, password: {}, noPassword: true, tcti })), {
      code: 'NOT_SUPPORTED',
      message: `${base}.pem is fixed to TPM scheme 0x18 with hash 0xc, so it cannot make an ECDSA SHA256 signature`,
    });
  });

  await t.test('an owner hierarchy with a password, then a disabled one: keys under it cannot be loaded', async (t) => {
    const entry = ownKey('ec-p256');
    await tpm2Tool(own.swtpm, 'tpm2_changeauth', ['-c', 'o', 'owner-password']);
    t.has(await failureOf(signOnce(specFor(entry, { tcti }))), {
      code: 'TPM_AUTH_FAILED',
      message: `the owner hierarchy of the TPM at ${where} has a password, so the storage key that parents ${entry.keyPath} cannot be created: keys under a hierarchy need an empty hierarchy password; use a key under a persistent parent instead`,
    });
    const underPersistent = ownKey('ec-p256-under-persistent');
    t.ok(await signsFor(underPersistent, specFor(underPersistent, { tcti })), 'as the message says, a key under a persistent parent still signs');
    await tpm2Tool(own.swtpm, 'tpm2_changeauth', ['-c', 'o', '-p', 'owner-password']);

    await tpm2Tool(own.swtpm, 'tpm2_hierarchycontrol', ['-C', 'p', 'shEnable', 'clear']);
    t.has(await failureOf(signOnce(specFor(entry, { tcti }))), {
      code: 'TPM_PARENT_NOT_FOUND',
      message: `the TPM at ${where} cannot create the owner storage key that parents ${entry.keyPath} (TPM_RC_HIERARCHY): check that the owner hierarchy is enabled`,
    });
    await tpm2Tool(own.swtpm, 'tpm2_hierarchycontrol', ['-C', 'p', 'shEnable', 'set']);
    t.ok(await signsFor(entry, specFor(entry, { tcti })), 'signs again with the hierarchy enabled and without a password');
  });

  await t.test('a TPM in dictionary-attack lockout refuses even the right password', async (t) => {
    const entry = ownKey('ec-p256-password');
    await tpm2Tool(own.swtpm, 'tpm2_dictionarylockout', ['--setup-parameters', '--max-tries=1', '--recovery-time=600', '--lockout-recovery-time=0']);
    t.has(await failureOf(signOnce(specFor(entry, { tcti, password: { value: 'not-the-password' } }))), { code: 'TPM_AUTH_FAILED' }, 'one wrong password uses up the only try');
    t.has(await failureOf(signOnce(specFor(entry, { tcti }))), {
      code: 'TPM_LOCKOUT',
      message: `the TPM at ${where} is in dictionary-attack lockout after too many wrong passwords and refuses to use ${entry.keyPath}: wait for the lockout to expire, or clear it with tpm2_dictionarylockout --clear-lockout`,
    });
    await tpm2Tool(own.swtpm, 'tpm2_dictionarylockout', ['--clear-lockout']);
    t.ok(await signsFor(entry, specFor(entry, { tcti })), 'as the message says, clearing the lockout lets the key sign again');
  });

  t.same(await transientHandles(own.swtpm), [], 'refusals leave no transient object behind');
});

t.test('every transient object is gone at the end', async (t) => {
  t.same(await transientHandles(swtpm), []);
});
