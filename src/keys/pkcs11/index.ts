/**
 * The PKCS#11 key source and its discovery tools. Import lazily (`await import(...)`): loading
 * this pulls in the native pkcs11js binding.
 */
export { openPkcs11KeySource, type Pkcs11SourceOptions } from './source.js';
export { listPkcs11Identities, formatIdentityList, type Pkcs11Identity, type ListIdentitiesOptions } from './identities.js';
export { listPkcs11Inventory, formatInventory, type ModuleInventory, type TokenInventory, type ObjectInventory, type InventoryOptions } from './inventory.js';
export { parsePkcs11Uri, formatPkcs11Uri, redactPkcs11Uri, type Pkcs11Uri, type Pkcs11ObjectType } from './uri.js';
export { DEFAULT_PIN_ENV_VAR } from './pin.js';
