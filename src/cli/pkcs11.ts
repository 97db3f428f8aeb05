import type { Command } from 'commander';
import { debugFor, writeStdout } from './io.js';

interface ListFlags {
  pkcs11Lib: string[];
  login?: boolean;
  json?: boolean;
  short?: boolean;
  debug?: boolean;
}

/**
 * `list [pkcs11-uri]`: the slots, tokens, certificates and keys of PKCS#11 modules as
 * ready-to-paste URIs, so a YubiKey or HSM user can fill in ~/.aws/config. Never prints a PIN.
 */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('List PKCS#11 tokens, certificates and keys as pkcs11: URIs (for --certificate / --private-key)')
    .argument('[uri]', 'only tokens matching this pkcs11: URI, e.g. "pkcs11:token=YubiKey%20PIV%20%2312345678"')
    .option('--pkcs11-lib <path>', 'PKCS#11 module to list; repeat for several (default: module-path in the URI, else p11-kit-proxy)', collect, [])
    .option('--login', 'log in to show private keys (PIN from pin-source in the URI, ROLES_ANYWHERE_PIN, or a prompt); needs a URI matching one token')
    .option('--json', 'print JSON instead of text')
    .option('--short', 'print the shortest URI that still selects each token and object, instead of the full one')
    .option('--debug', 'explain each step on stderr (never prints secrets)')
    .action(async (uri: string | undefined, flags: ListFlags) => {
      const { listPkcs11Inventory, formatInventory } = await import('../keys/pkcs11/inventory.js');
      const modules = await listPkcs11Inventory({
        modulePaths: flags.pkcs11Lib,
        ...(uri !== undefined ? { filter: uri } : {}),
        login: flags.login === true,
        debug: debugFor(flags),
      });
      let shown = modules;
      if (flags.short === true) {
        const { shortenInventoryUris } = await import('../keys/pkcs11/short-uri.js');
        const { parsePkcs11Uri } = await import('../keys/pkcs11/uri.js');
        shown = shortenInventoryUris(modules, uri === undefined ? {} : parsePkcs11Uri(uri));
      }
      await writeStdout(flags.json === true ? `${JSON.stringify(shown, null, 2)}\n` : formatInventory(shown));
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
