import { createRequire } from 'node:module';
import type * as Pkcs11js from 'pkcs11js';
import { SignerError } from '../../errors.js';

/** The pkcs11js module: its PKCS11 class wraps one loaded PKCS#11 library. */
export type Pkcs11Binding = typeof Pkcs11js;

/** How the binding is fetched; tests pass one that fails, as an install without a compiler does. */
export type BindingLoader = () => unknown;

export const PKCS11_UNAVAILABLE_MESSAGE =
  'PKCS#11 support is not installed (the optional pkcs11js binding could not be loaded): '
  + 'install a C/C++ toolchain (gcc, g++, make, python3) and run `npm install pkcs11js` beside roles-anywhere-signer, '
  + 'or use a key file (--private-key key.pem) or a TPM key instead';

/*
 * Where this file is bundled into CommonJS (the standalone executable), the literal
 * `require('pkcs11js')` is what lets the bundler see and include the binding (still loaded only
 * when called); as ESM, where there is no `require`, createRequire provides one.
 */
const requirePkcs11js: BindingLoader = () => (typeof require === 'function' ? require('pkcs11js') : createRequire(import.meta.url)('pkcs11js'));

let loaded: Pkcs11Binding | undefined;

/**
 * The native PKCS#11 binding, loaded on first use: only a pkcs11: URI or a PKCS#11 command
 * needs it, so file-key and TPM users can install without a compiler (issue 9). Through
 * createRequire because pkcs11js is CommonJS (about half the cost of import()).
 */
export function loadPkcs11Binding(load: BindingLoader = requirePkcs11js): Pkcs11Binding {
  if (loaded !== undefined && load === requirePkcs11js) return loaded;
  let binding: unknown;
  try {
    binding = load();
  } catch (cause) {
    throw new SignerError('PKCS11_UNAVAILABLE', PKCS11_UNAVAILABLE_MESSAGE, { cause });
  }
  if (typeof (binding as Partial<Pkcs11Binding> | undefined)?.PKCS11 !== 'function') {
    throw new SignerError('PKCS11_UNAVAILABLE', PKCS11_UNAVAILABLE_MESSAGE);
  }
  if (load === requirePkcs11js) loaded = binding as Pkcs11Binding;
  return binding as Pkcs11Binding;
}
