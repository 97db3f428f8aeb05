import type { Command } from 'commander';
import { SignerError } from '../errors.js';
import { debugFor, writeStdout } from './io.js';

interface ReadCertificateFlags {
  certificate?: string;
  pkcs11Lib?: string;
  certSelector?: string;
  systemStoreName?: string;
  debug?: boolean;
}

export function registerReadCertificateDataCommand(program: Command): void {
  program
    .command('read-certificate-data')
    .description('Show a certificate as the signer sees it; with a pkcs11: URI, list the matching identities on the token')
    .option('--certificate <path|uri>', 'certificate file (PEM/DER) or pkcs11: URI')
    .option('--pkcs11-lib <path>', 'PKCS#11 module to load')
    .option('--cert-selector <json>', 'select from an OS certificate store (not supported yet)')
    .option('--system-store-name <name>', 'Windows system store name (not supported)')
    .option('--debug', 'explain each step on stderr')
    .action(async (flags: ReadCertificateFlags) => {
      if (flags.certSelector !== undefined || flags.systemStoreName !== undefined) {
        throw new SignerError('NOT_SUPPORTED', 'OS certificate stores are not supported yet: pass --certificate with a file or a pkcs11: URI');
      }
      if (flags.certificate === undefined) {
        throw new SignerError('USAGE', '--certificate is required: a PEM/DER file or a pkcs11: URI');
      }
      const debug = debugFor(flags);
      // A certificate that lives in a key source (a pkcs11: URI names one on a token) is shown by that source.
      const { certificateDiscoveryFor } = await import('../keys/registry.js');
      const discovery = certificateDiscoveryFor(flags.certificate);
      if (discovery !== undefined) {
        await writeStdout(await discovery.describe({
          certificate: flags.certificate,
          ...(flags.pkcs11Lib !== undefined ? { modulePath: flags.pkcs11Lib } : {}),
          debug,
        }));
        return;
      }
      const { loadLeafCertificate } = await import('../certs/load.js');
      const { certificateDataJson } = await import('../certs/certificate-data.js');
      await writeStdout(certificateDataJson(loadLeafCertificate(flags.certificate)));
    });
}
