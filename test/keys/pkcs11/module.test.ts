import t from 'tap';
import { existsSync } from 'node:fs';
import { runCli, isolatedEnv } from '../../helpers/cli.js';

// p11-kit-proxy loads every registered module; tpm2-pkcs11 among them prints ERROR:tcti lines
// on a machine without a TPM unless TSS2_LOG quiets its TSS library.
const registered = ['/usr/share/p11-kit/modules/tpm2_pkcs11.module', '/etc/pkcs11/modules/tpm2_pkcs11.module'].some((path) => existsSync(path));

t.test('loading p11-kit-proxy keeps the TPM software stack quiet', { skip: registered ? false : 'tpm2-pkcs11 is not registered with p11-kit here' }, async (t) => {
  const quiet = await runCli(['list'], { env: isolatedEnv({ TSS2_LOG: undefined }) });
  t.equal(quiet.code, 0, quiet.stderr);
  // tpm2-pkcs11's own one-line complaint ('Could not initialize tpm ctx') has no switch.
  t.notMatch(quiet.stderr, /ERROR:tcti/);

  // The user's own setting wins: this is how to see those lines on purpose.
  const loud = await runCli(['list'], { env: isolatedEnv({ TSS2_LOG: 'all+ERROR' }) });
  t.match(loud.stderr, /ERROR:tcti/, 'with TSS2_LOG set by the user, the TPM stack speaks (proves the check above can fail)');
});
