import t from 'tap';
import { TPM_RC, decodeResponseCode } from '../../../src/keys/tpm/response-code.js';

t.test('format-1 codes name the session, handle or parameter at fault', async (t) => {
  const wrongPassword = decodeResponseCode(0x98e);
  t.equal(wrongPassword.base, TPM_RC.AUTH_FAIL);
  t.equal(wrongPassword.name, 'TPM_RC_AUTH_FAIL');
  t.equal(wrongPassword.kind, 'error');
  t.equal(wrongPassword.session, 1);
  t.equal(wrongPassword.handle, undefined);
  t.equal(wrongPassword.text, 'TPM_RC_AUTH_FAIL (0x98e, session 1): the authorization check failed (wrong password) and the dictionary-attack counter was incremented');

  const missingObject = decodeResponseCode(0x18b);
  t.equal(missingObject.base, TPM_RC.HANDLE);
  t.equal(missingObject.handle, 1);
  t.equal(missingObject.text, 'TPM_RC_HANDLE (0x18b, handle 1): the handle is not correct for the use (no such object)');

  // What swtpm answered to TPM2_ReadPublic(0x40000001) in a tpm2-tools trace.
  const readPublicOfHierarchy = decodeResponseCode(0x184);
  t.equal(readPublicOfHierarchy.name, 'TPM_RC_VALUE');
  t.equal(readPublicOfHierarchy.handle, 1);

  const badParameter = decodeResponseCode(0x2c4);
  t.equal(badParameter.base, TPM_RC.VALUE);
  t.equal(badParameter.parameter, 2);
  t.equal(badParameter.text, 'TPM_RC_VALUE (0x2c4, parameter 2): value is out of range or not correct for the context');

  const highParameter = decodeResponseCode(0xfd5);
  t.equal(highParameter.base, TPM_RC.SIZE);
  t.equal(highParameter.parameter, 15);

  const unspecified = decodeResponseCode(0x09f);
  t.equal(unspecified.base, TPM_RC.INTEGRITY);
  t.same([unspecified.handle, unspecified.session, unspecified.parameter], [undefined, undefined, undefined]);
  t.equal(unspecified.text, 'TPM_RC_INTEGRITY (0x9f): integrity check failed (the object does not belong under this parent or TPM)');

  const unknown = decodeResponseCode(0x0be);
  t.equal(unknown.name, 'TPM_RC_0xbe');
  t.equal(unknown.text, 'TPM_RC_0xbe (0xbe): unknown format-1 error');
});

t.test('format-0 codes: errors and warnings', async (t) => {
  t.equal(decodeResponseCode(0x100).text, 'TPM_RC_INITIALIZE (0x100): the TPM has not been started with TPM2_Startup, or was started already');
  t.equal(decodeResponseCode(0x100).kind, 'error');

  const lockout = decodeResponseCode(0x921);
  t.equal(lockout.kind, 'warning');
  t.equal(lockout.base, TPM_RC.LOCKOUT);
  t.equal(lockout.name, 'TPM_RC_LOCKOUT');

  t.equal(decodeResponseCode(0x922).name, 'TPM_RC_RETRY');
  t.equal(decodeResponseCode(0x908).name, 'TPM_RC_YIELDED');
  t.equal(decodeResponseCode(0x910).text, 'TPM_RC_REFERENCE_H0 (0x910): the 1st handle references a transient object or session that is not loaded');
  t.equal(decodeResponseCode(0x97f).text, 'TPM_RC_0x97f (0x97f): unknown format-0 warning');
});

t.test('codes that are not TPM 2.0 errors say so', async (t) => {
  const tpm12 = decodeResponseCode(0x01e);
  t.equal(tpm12.kind, 'tpm1.2');
  t.equal(tpm12.text, 'TPM 1.2 response code 0x1e: the TPM did not accept the command as TPM 2.0');

  const vendor = decodeResponseCode(0x501);
  t.equal(vendor.kind, 'vendor');
  t.equal(vendor.text, 'vendor-defined response code 0x501');

  const resourceManager = decodeResponseCode(0x000b0101);
  t.equal(resourceManager.kind, 'software-layer');
  t.equal(resourceManager.text, 'response code 0xb0101 from software layer 11, not from the TPM itself');
});
