import t from 'tap';
import { describeTarget, parseTcti, resolveTpmTarget, type PathKind } from '../../../src/keys/tpm/tcti.js';

const origin = 'TEST';

t.test('tpm2-tools TCTI strings', async (t) => {
  t.same(parseTcti('device:/dev/tpmrm0', origin), { kind: 'device', path: '/dev/tpmrm0', origin });
  t.same(parseTcti('device', origin), { kind: 'device', path: '/dev/tpm0', origin }, 'tpm2-tss default device');
  t.same(parseTcti('swtpm:host=127.0.0.1,port=2321', origin), { kind: 'tcp', host: '127.0.0.1', port: 2321, origin });
  t.same(parseTcti('swtpm:port=40000', origin), { kind: 'tcp', host: 'localhost', port: 40000, origin });
  t.same(parseTcti('swtpm', origin), { kind: 'tcp', host: 'localhost', port: 2321, origin });
  t.same(parseTcti('swtpm:host=::1,port=2321', origin), { kind: 'tcp', host: '::1', port: 2321, origin });
  t.same(parseTcti('swtpm:path=/run/swtpm.sock', origin), { kind: 'unix', path: '/run/swtpm.sock', origin }, 'tpm2-tss 4 spelling');
  t.same(parseTcti('unix:/tmp/s.sock', origin), { kind: 'unix', path: '/tmp/s.sock', origin });
  t.same(parseTcti('libtss2-tcti-device.so.0:/dev/tpmrm0', origin), { kind: 'device', path: '/dev/tpmrm0', origin });
  t.same(parseTcti('tcti-swtpm:port=3000', origin), { kind: 'tcp', host: 'localhost', port: 3000, origin });
  t.same(parseTcti(' /dev/tpm0 ', origin), { kind: 'device', path: '/dev/tpm0', origin }, 'a bare path is a device');
});

t.test('bad TCTI strings say what is wrong and how to write one', async (t) => {
  const help = 'write device:/dev/tpmrm0, swtpm:host=127.0.0.1,port=2321 or unix:/path/to/swtpm.sock';
  t.throws(() => parseTcti('tpm:/dev/x', 'TPM2TOOLS_TCTI'), { code: 'CONFIG_INVALID', message: `the TPM TCTI "tpm:/dev/x" (TPM2TOOLS_TCTI) is not understood: ${help}` });
  t.throws(() => parseTcti('swtpm:port=70000', origin), { code: 'CONFIG_INVALID', message: `the TPM TCTI "swtpm:port=70000" (TEST) has a bad setting "port=70000" (swtpm takes host=, port= 1-65535, or path=): ${help}` });
  t.throws(() => parseTcti('swtpm:host=a,prot=1', origin), { code: 'CONFIG_INVALID', message: `the TPM TCTI "swtpm:host=a,prot=1" (TEST) has a bad setting "prot=1" (swtpm takes host=, port= 1-65535, or path=): ${help}` });
  t.throws(() => parseTcti('unix:', origin), { code: 'CONFIG_INVALID', message: `the TPM TCTI "unix:" (TEST) names no socket path: ${help}` });
  t.throws(() => parseTcti('mssim:host=localhost', origin), {
    code: 'NOT_SUPPORTED',
    message: 'the TCTI "mssim:host=localhost" (TEST) uses the mssim simulator protocol, which is not supported: run swtpm and use swtpm:host=...,port=...',
  });
  t.throws(() => parseTcti('tabrmd:bus_type=session', origin), {
    code: 'NOT_SUPPORTED',
    message: 'the TCTI "tabrmd:bus_type=session" (TEST) needs tpm2-abrmd over D-Bus, which is not supported: use device:/dev/tpmrm0, the kernel\'s resource manager',
  });
});

t.test('resolution order: setting, ROLES_ANYWHERE_TPM_TCTI, TPM2TOOLS_TCTI, TPM_DEVICE, devices', async (t) => {
  const paths = (present: Record<string, PathKind>) => (path: string): PathKind => present[path] ?? 'missing';
  const env = {
    ROLES_ANYWHERE_TPM_TCTI: 'swtpm:port=1111',
    TPM2TOOLS_TCTI: 'swtpm:port=2222',
    TPM_DEVICE: '/run/tpm.sock',
  };
  const everything = paths({ '/dev/tpmrm0': 'other', '/run/tpm.sock': 'socket' });

  t.same(resolveTpmTarget('swtpm:port=9999', { env, pathKind: everything }), { kind: 'tcp', host: 'localhost', port: 9999, origin: 'the TCTI setting' });
  t.same(resolveTpmTarget(undefined, { env, pathKind: everything }), { kind: 'tcp', host: 'localhost', port: 1111, origin: 'ROLES_ANYWHERE_TPM_TCTI' });
  t.same(resolveTpmTarget('  ', { env: { ...env, ROLES_ANYWHERE_TPM_TCTI: '' }, pathKind: everything }), { kind: 'tcp', host: 'localhost', port: 2222, origin: 'TPM2TOOLS_TCTI' }, 'blank values are unset');
  t.same(resolveTpmTarget(undefined, { env: { TPM_DEVICE: '/run/tpm.sock' }, pathKind: everything }), { kind: 'unix', path: '/run/tpm.sock', origin: 'TPM_DEVICE' }, 'TPM_DEVICE naming a socket');
  t.same(resolveTpmTarget(undefined, { env: { TPM_DEVICE: '/dev/tpm0' }, pathKind: everything }), { kind: 'device', path: '/dev/tpm0', origin: 'TPM_DEVICE' }, 'TPM_DEVICE naming a device (even a missing one, reported on open)');
  t.same(resolveTpmTarget(undefined, { env: {}, pathKind: everything }), { kind: 'device', path: '/dev/tpmrm0', origin: 'the default device' });
  t.same(resolveTpmTarget(undefined, { env: {}, pathKind: paths({ '/dev/tpm0': 'other' }) }), { kind: 'device', path: '/dev/tpm0', origin: 'the default device' }, 'falls back to /dev/tpm0');
  t.throws(() => resolveTpmTarget(undefined, { env: {}, pathKind: paths({}) }), {
    code: 'TPM_UNAVAILABLE',
    message: 'no TPM found: /dev/tpmrm0 and /dev/tpm0 do not exist: on a machine with a TPM load its driver; for a TPM simulator set ROLES_ANYWHERE_TPM_TCTI=swtpm:host=127.0.0.1,port=2321',
  });
});

t.test('targets describe themselves without settings noise', async (t) => {
  t.equal(describeTarget({ kind: 'device', path: '/dev/tpmrm0', origin }), '/dev/tpmrm0');
  t.equal(describeTarget({ kind: 'tcp', host: '127.0.0.1', port: 2321, origin }), 'swtpm 127.0.0.1:2321');
  t.equal(describeTarget({ kind: 'tcp', host: '::1', port: 2321, origin }), 'swtpm [::1]:2321');
  t.equal(describeTarget({ kind: 'unix', path: '/s.sock', origin }), 'UNIX socket /s.sock');
});
