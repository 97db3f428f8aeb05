import type { Command } from 'commander';
import { SignerError } from '../errors.js';
import { debugFor, writeStdout } from './io.js';
import { printEnrollOutcome } from './enroll-output.js';
import { TPM_ONLY_ENROLL_FLAGS, type TpmEnrollFlags } from './enroll-tpm.js';
import { refuseConflictingPasswordFlags } from './options.js';
import { Option } from './commander.js';

interface EnrollFlags extends TpmEnrollFlags {
  tpm?: boolean;
  privateKey?: string;
  pkcs11Lib?: string;
  keyType: string;
  subject?: string;
  out?: string;
  importCertificate?: string;
  withChain?: boolean;
  intermediates?: string;
  json?: boolean;
  debug?: boolean;
}

/**
 * `enroll`: a new non-extractable key inside a PKCS#11 token and a certificate request signed
 * by it; later `enroll --import-certificate` puts the issued certificate next to the key.
 */
export function registerEnrollCommand(program: Command): void {
  refuseConflictingPasswordFlags(program.command('enroll'))
    .description('Generate a key inside a PKCS#11 token or a TPM 2.0 (--tpm) and write a certificate request (CSR) for it; --import-certificate stores the issued certificate next to a token key')
    .option('--private-key <uri|file>', 'pkcs11: URI of the token and the new key, e.g. "pkcs11:token=ci;object=build-01;id=%01" (object and id are chosen when left out); with --tpm: the new TSS2 key file, or handle:0x81000010')
    .option('--pkcs11-lib <path>', 'PKCS#11 module to load (default: module-path in the URI, else p11-kit-proxy)')
    .option('--key-type <type>', 'key to generate: ec-p256, ec-p384, rsa-2048 or rsa-3072', 'ec-p256')
    .option('--with-chain', 'with --import-certificate: also store the rest of the file (the issuing CA certificates of a bundle)')
    .option('--intermediates <file>', 'with --import-certificate: also store these intermediate CA certificates (PEM bundle), so credential-process sends them without --intermediates')
    .option('--subject <dn>', 'subject of the request, most specific first, e.g. "CN=build-01,O=Example,C=US"')
    .option('--out <file>', 'write the request (PEM) to this new file instead of stdout')
    .option('--import-certificate <file>', 'store this issued certificate (PEM or DER) on the token next to the key named by --private-key, after checking it matches the key')
    .option('--tpm', 'create the key inside a TPM 2.0 instead: --private-key names the new TSS2 key file, or handle:0x81000010')
    .option('--persistent-handle <handle>', 'with --tpm: also make the key persistent at this handle, e.g. 0x81000010 (refused when in use)')
    .option('--parent-handle <handle>', 'with --tpm: create the key under this persistent storage key instead of the SRK, e.g. 0x81000001')
    .option('--tpm-key-password <password>', 'with --tpm: the new key\'s password (visible in ps; prefer ROLES_ANYWHERE_TPM_KEY_PASSWORD); none when neither is set')
    .option('--no-tpm-key-password', 'with --tpm: no password, even when ROLES_ANYWHERE_TPM_KEY_PASSWORD is set')
    .addOption(new Option('--tpm-tcti <tcti>', 'with --tpm: TPM to use: device:/dev/tpmrm0, swtpm:host=H,port=P or unix:/path (default: $ROLES_ANYWHERE_TPM_TCTI, $TPM2TOOLS_TCTI, /dev/tpmrm0)'))
    .option('--json', 'print the result as JSON (URIs, attributes, the request as PEM)')
    .option('--debug', 'explain each step on stderr (never prints secrets)')
    .action(async (flags: EnrollFlags) => {
      if (flags.tpm === true) {
        const { runTpmEnroll } = await import('./enroll-tpm.js');
        await runTpmEnroll(flags);
        return;
      }
      const tpmOnly = TPM_ONLY_ENROLL_FLAGS.find(([key]) => flags[key] !== undefined);
      if (tpmOnly !== undefined) throw new SignerError('USAGE', `${tpmOnly[1]} is for TPM keys: add --tpm`);
      const keyUri = flags.privateKey;
      if (keyUri === undefined || keyUri === '') {
        throw new SignerError('USAGE', 'enroll needs --private-key pkcs11:token=LABEL (the token to generate the key in; add object=NAME and id=%01 to name it)');
      }
      const debug = debugFor(flags);
      const enroll = await import('../enroll/report.js');
      if (flags.importCertificate !== undefined) {
        if (flags.subject !== undefined || flags.out !== undefined) {
          throw new SignerError('USAGE', '--import-certificate stores a certificate for an existing key: leave out --subject and --out');
        }
        const { importCertificateToToken } = await import('../enroll/pkcs11-import.js');
        const result = await importCertificateToToken({
          keyUri,
          certificatePath: flags.importCertificate,
          withChain: flags.withChain === true,
          ...(flags.intermediates !== undefined ? { intermediatesPath: flags.intermediates } : {}),
          ...(flags.pkcs11Lib !== undefined ? { modulePath: flags.pkcs11Lib } : {}),
          debug,
        });
        await writeStdout(flags.json === true ? `${JSON.stringify(result, null, 2)}\n` : enroll.formatImportResult(result));
        return;
      }
      if (flags.withChain === true || flags.intermediates !== undefined) {
        throw new SignerError('USAGE', '--with-chain and --intermediates store CA certificates next to an imported certificate: use them with --import-certificate');
      }
      if (flags.subject === undefined || flags.subject === '') {
        throw new SignerError('USAGE', 'enroll needs --subject "CN=name,O=Organisation" for the certificate request');
      }
      const { parseEnrollKeyType } = await import('../enroll/key-types.js');
      const keyType = parseEnrollKeyType(flags.keyType);
      // Refuse an existing --out before a key is generated, so a rerun never strands a key.
      if (flags.out !== undefined) enroll.assertOutputIsNew(flags.out);
      const { enrollPkcs11Key } = await import('../enroll/enroll-pkcs11.js');
      const result = await enrollPkcs11Key({
        keyUri,
        keyType,
        subject: flags.subject,
        ...(flags.pkcs11Lib !== undefined ? { modulePath: flags.pkcs11Lib } : {}),
        debug,
        ...(flags.out !== undefined ? { deliver: (pem: string) => enroll.writeNewRequestFile(flags.out as string, pem, 'the new key was removed from the token again') } : {}),
      });
      await printEnrollOutcome({ json: flags.json === true, out: flags.out, csrPem: result.csrPem, summary: enroll.enrollReport(result, flags.out), format: enroll.formatEnrollReport });
    });
}
