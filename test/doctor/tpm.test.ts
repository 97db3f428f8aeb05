import t from 'tap';
import { checkLockout } from '../../src/doctor/tpm.js';

const WHERE = 'swtpm 127.0.0.1:2321';
const IN_LOCKOUT = 1 << 9;

t.test('no failures counted, or few of many: ok', async (t) => {
  t.same(checkLockout({ permanent: 0, counter: 0, maxAuthFail: 3, interval: 1000 }, WHERE), { check: 'tpm lockout', status: 'ok', detail: 'not in lockout (0 of 3 failed authorizations counted)' });
  t.same(checkLockout({ permanent: 0, counter: 3, maxAuthFail: 32, interval: 7200 }, WHERE).status, 'ok');
  t.same(checkLockout({ permanent: 0x5, counter: 0, maxAuthFail: 3, interval: 1000 }, WHERE).status, 'ok', 'other TPMA_PERMANENT bits do not matter');
});

t.test('half of the allowed failures used, or at most 2 left: warn, with how many are left', async (t) => {
  t.same(checkLockout({ permanent: 0, counter: 1, maxAuthFail: 3, interval: 1000 }, WHERE), {
    check: 'tpm lockout',
    status: 'warn',
    detail: `1 of 3 failed authorizations counted at ${WHERE}: 2 more wrong password(s) put the TPM in lockout`,
    fix: 'check the key password and its source before the next run; the TPM forgets one failure every 1000 s',
  });
  t.equal(checkLockout({ permanent: 0, counter: 16, maxAuthFail: 32, interval: 7200 }, WHERE).status, 'warn');
  t.equal(checkLockout({ permanent: 0, counter: 15, maxAuthFail: 32, interval: 7200 }, WHERE).status, 'ok');
  t.equal(checkLockout({ permanent: 0, counter: 998, maxAuthFail: 1000, interval: 0 }, WHERE).fix, 'check the key password and its source before the next run; the TPM forgets failures only when the lockout is reset');
});

t.test('inLockout set: fail, with the way out', async (t) => {
  t.same(checkLockout({ permanent: IN_LOCKOUT, counter: 3, maxAuthFail: 3, interval: 1000 }, WHERE), {
    check: 'tpm lockout',
    status: 'fail',
    detail: `the TPM at ${WHERE} is in dictionary-attack lockout (3 of 3 failed authorizations counted): keys with a password are refused`,
    fix: 'wait (the TPM forgets one failure every 1000 s), or reset it with tpm2_dictionarylockout --clear-lockout (the lockout hierarchy\'s password); then find what sent wrong passwords',
  });
  t.equal(checkLockout({ permanent: IN_LOCKOUT, counter: 0, maxAuthFail: 0, interval: 0 }, WHERE).status, 'fail', 'the flag wins over the counter');
});
