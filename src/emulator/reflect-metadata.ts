/**
 * @peculiar/x509 resolves its algorithm table through tsyringe, which refuses to load unless
 * `Reflect.getMetadata` exists. The npm `reflect-metadata` polyfill is not a dependency, and
 * tsyringe only needs three functions (it reads constructor parameter types that our build never
 * emits), so this installs exactly those, backed by a WeakMap, and only when absent.
 * Import it before @peculiar/x509: go through ./x509.ts, which does that.
 */
type MetadataMap = Map<unknown, unknown>;

interface ReflectMetadataApi {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
}

const reflect = Reflect as typeof Reflect & ReflectMetadataApi;

if (typeof reflect.getMetadata !== 'function') {
  const store = new WeakMap<object, MetadataMap>();
  const getOwnMetadata = (key: unknown, target: object): unknown => store.get(target)?.get(key);
  reflect.getOwnMetadata = getOwnMetadata;
  reflect.defineMetadata = (key: unknown, value: unknown, target: object): void => {
    let entries = store.get(target);
    if (entries === undefined) {
      entries = new Map();
      store.set(target, entries);
    }
    entries.set(key, value);
  };
  // Like the real polyfill: look up the prototype chain when the target has no own entry.
  reflect.getMetadata = (key: unknown, target: object): unknown => {
    for (let current: object | null = target; current !== null; current = Object.getPrototypeOf(current) as object | null) {
      const entries = store.get(current);
      if (entries?.has(key) === true) return entries.get(key);
    }
    return undefined;
  };
}

export {};
