/**
 * Short pkcs11: URIs for `list --short`: the fewest attributes of an object (or token) that
 * still select it, and it alone, among everything the module shows. RFC 7512 matching is
 * "every attribute the URI names must be equal", so a subset of an object's own attributes
 * selects it exactly when no other listed object agrees with it on that whole subset. Pure:
 * the caller passes the long URIs it listed.
 */
import type { ModuleInventory } from './inventory.js';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './uri.js';

/** The attributes a short URI may use, in the order a reader recognizes them by. */
const SELECTING_ATTRIBUTES = ['token', 'object', 'type', 'id', 'serial', 'model', 'manufacturer'] as const;
type SelectingAttribute = (typeof SELECTING_ATTRIBUTES)[number];

/**
 * The shortest URI that matches `target` and no other entry of `candidates` (which holds
 * `target` too). `keep` (the URI given to `list`, say) is kept whole: it already excluded
 * every token that is not listed, so uniqueness among the candidates is uniqueness in the
 * module. When nothing shorter is unique (two objects alike in every attribute), the target's
 * full selecting attributes are returned: still correct, just as ambiguous as the token.
 * Ties between subsets of the same size go to the earlier attributes in reading order
 * (`token` and `object` before `serial` or `id`).
 */
export function shortestSelectingUri(target: Pkcs11Uri, candidates: readonly Pkcs11Uri[], keep: Pkcs11Uri = {}): Pkcs11Uri {
  const available = SELECTING_ATTRIBUTES.filter((name) => hasValue(target, name));
  // The target itself drops out once; a second entry alike in every attribute stays, so that
  // no subset is unique and the full form comes back.
  const itself = candidates.findIndex((candidate) => sameSelectingAttributes(candidate, target));
  const others = candidates.filter((_, index) => index !== itself);
  for (const subset of subsetsBySize(available)) {
    if (!others.some((other) => subset.every((name) => attributeEqual(other, target, name)))) {
      return { ...keep, ...pick(target, subset) };
    }
  }
  return { ...keep, ...pick(target, available) };
}

function hasValue(uri: Pkcs11Uri, name: SelectingAttribute): boolean {
  const value = uri[name];
  if (value === undefined) return false;
  return typeof value === 'string' ? value !== '' : value.length > 0;
}

function attributeEqual(a: Pkcs11Uri, b: Pkcs11Uri, name: SelectingAttribute): boolean {
  const left = a[name];
  const right = b[name];
  if (left === undefined || right === undefined) return left === right;
  if (typeof left === 'string' || typeof right === 'string') return left === right;
  return Buffer.from(left).equals(Buffer.from(right));
}

function sameSelectingAttributes(a: Pkcs11Uri, b: Pkcs11Uri): boolean {
  return SELECTING_ATTRIBUTES.every((name) => attributeEqual(a, b, name));
}

function pick(uri: Pkcs11Uri, names: readonly SelectingAttribute[]): Pkcs11Uri {
  const picked: Record<string, unknown> = {};
  for (const name of names) picked[name] = uri[name];
  return picked as Pkcs11Uri;
}

/** Every subset of `items`, smallest first; within one size, in the items' order. */
function* subsetsBySize<T>(items: readonly T[]): Generator<T[]> {
  for (let size = 1; size <= items.length; size++) yield* combinations(items, size, 0);
}

function* combinations<T>(items: readonly T[], size: number, start: number): Generator<T[]> {
  if (size === 0) {
    yield [];
    return;
  }
  for (let index = start; index <= items.length - size; index++) {
    for (const rest of combinations(items, size - 1, index + 1)) yield [items[index] as T, ...rest];
  }
}

/**
 * `list --short`: every token and object URI of a listing replaced by its shortest selecting
 * form, computed per module (a URI selects within the module it is used with). `filter` is the
 * URI `list` was given; it is kept in each short URI because it is what hid the other tokens.
 */
export function shortenInventoryUris(modules: readonly ModuleInventory[], filter: Pkcs11Uri = {}): ModuleInventory[] {
  const keep = tokenPartOf(filter);
  return modules.map((module) => {
    const tokenUris = module.tokens.map((token) => parsePkcs11Uri(token.uri));
    const objectUris = module.tokens.flatMap((token) => token.objects.map((object) => parsePkcs11Uri(object.uri)));
    return {
      ...module,
      tokens: module.tokens.map((token, tokenIndex) => ({
        ...token,
        uri: formatPkcs11Uri(shortestSelectingUri(tokenUris[tokenIndex] ?? {}, tokenUris, keep)),
        objects: token.objects.map((object) => ({
          ...object,
          uri: formatPkcs11Uri(shortestSelectingUri(parsePkcs11Uri(object.uri), objectUris, keep)),
        })),
      })),
    };
  });
}

/**
 * What of the filter chose the tokens: token, slot and library attributes. `list` does not
 * filter objects by it, and its PIN or module query never goes into output.
 */
function tokenPartOf(filter: Pkcs11Uri): Pkcs11Uri {
  const { object, type, id, pinValue, pinSource, moduleName, modulePath, ...tokenPart } = filter;
  return tokenPart;
}
