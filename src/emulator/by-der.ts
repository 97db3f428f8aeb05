/**
 * Remembers what a parse of a certificate gave, by the certificate's exact bytes. A client sends
 * the same certificate and chain with every request, and the trust anchors never change, so the
 * emulator parses each once instead of on every CreateSession (the ASN.1 schema parser was most
 * of an answer's time). Keyed by content, so a different certificate is never mistaken for a
 * known one; a parse that throws is not remembered (it throws again next time); bounded, emptied
 * when full. The values are shared between requests: callers only read them.
 */
export function memoizedByDer<T>(parse: (der: Uint8Array) => T, capacity = 256): (der: Uint8Array) => T {
  const known = new Map<string, T>();
  return (der) => {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    const value = parse(der);
    if (known.size >= capacity) known.clear();
    known.set(key, value);
    return value;
  };
}
