/**
 * The checksum of each code cache entry (compile-cache.ts): FNV-1a 64 over the data's 64-bit
 * little-endian words, then over its last 0 to 7 bytes one at a time. It only has to notice
 * damage (V8 trusts a cache's bytes, and a flipped bit can crash it); who may write the file is
 * checked separately, by owner and mode. Each step is a bijection of the state for a given
 * word, so any single changed word changes the result.
 *
 * Why WebAssembly: the launcher runs before every command, and `version` or `--help` need
 * nothing else from node:crypto, whose loading alone is about 2.5 ms (its ciphers, key
 * generators and streams come with it). A loop in JavaScript runs in the interpreter on a cold
 * start, about 7 ms per MiB. This module is 155 bytes, compiles in about 0.3 ms and hashes a
 * MiB in about 0.5 ms. The same function in JavaScript (BigInt) is in the tests, which compare
 * the two on random data.
 *
 * Where WebAssembly is not available (`node --jitless`), checksum64 returns undefined and the
 * code cache is not used.
 */
const FNV_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/** Signed LEB128, as an i64.const immediate is written. */
function sleb128(value: bigint): number[] {
  let rest = BigInt.asIntN(64, value);
  const bytes: number[] = [];
  for (;;) {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    const signBitClear = (byte & 0x40) === 0;
    if ((rest === 0n && signBitClear) || (rest === -1n && !signBitClear)) return [...bytes, byte];
    bytes.push(byte | 0x80);
  }
}

/** The body of `h(ptr: i32, len: i32) -> i64`; locals 0 ptr, 1 len (then end), 2 i, 3 h. */
function functionBody(): number[] {
  const mix = [0x85, 0x42, ...sleb128(FNV_PRIME), 0x7e, 0x21, 0x03]; // h = (h ^ value) * prime
  const code = [
    0x02, 0x01, 0x7f, 0x01, 0x7e, //                       locals: one i32 (i), one i64 (h)
    0x42, ...sleb128(FNV_OFFSET_BASIS), 0x21, 0x03, //     h = offset basis
    0x20, 0x00, 0x21, 0x02, //                             i = ptr
    0x20, 0x00, 0x20, 0x01, 0x6a, 0x21, 0x01, //           end = ptr + len
    0x02, 0x40, 0x03, 0x40, //                             block, loop: whole words
    0x20, 0x02, 0x41, 0x08, 0x6a, 0x20, 0x01, 0x4b, 0x0d, 0x01, // break if i + 8 > end
    0x20, 0x03, 0x20, 0x02, 0x29, 0x00, 0x00, ...mix, //   h = (h ^ i64.load(i)) * prime
    0x20, 0x02, 0x41, 0x08, 0x6a, 0x21, 0x02, 0x0c, 0x00, 0x0b, 0x0b, // i += 8, again; end, end
    0x02, 0x40, 0x03, 0x40, //                             block, loop: the last bytes
    0x20, 0x02, 0x20, 0x01, 0x4f, 0x0d, 0x01, //           break if i >= end
    0x20, 0x03, 0x20, 0x02, 0x31, 0x00, 0x00, ...mix, //   h = (h ^ i64.load8_u(i)) * prime
    0x20, 0x02, 0x41, 0x01, 0x6a, 0x21, 0x02, 0x0c, 0x00, 0x0b, 0x0b, // i += 1, again; end, end
    0x20, 0x03, 0x0b, //                                   return h
  ];
  return [code.length, ...code];
}

function moduleBytes(): Uint8Array {
  const body = functionBody();
  // Section and body sizes below are single LEB128 bytes: both stay under 128.
  if (body.length + 1 >= 0x80) throw new Error('the checksum function outgrew its one-byte section size');
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, //     "\0asm", version 1
    0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e, // types: (i32, i32) -> i64
    0x03, 0x02, 0x01, 0x00, //                             one function of type 0
    0x05, 0x03, 0x01, 0x00, 0x01, //                       one memory, 1 page to start
    0x07, 0x09, 0x02, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x68, 0x00, 0x00, // exports: "m" memory, "h" function
    0x0a, body.length + 1, 0x01, ...body, //               code: the one body
  ]);
}

/** What is used of the WebAssembly global (the project's TypeScript libraries do not describe it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: Readonly<Record<string, unknown>> };
}

interface Checksummer {
  readonly memory: WasmMemory;
  readonly h: (pointer: number, length: number) => bigint;
}

const PAGE_BYTES = 65_536;
let checksummer: Checksummer | null | undefined;

function instance(): Checksummer | null {
  if (checksummer === undefined) {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    try {
      if (wasm === undefined) throw new Error('no WebAssembly');
      const { exports } = new wasm.Instance(new wasm.Module(moduleBytes()));
      checksummer = { memory: exports['m'] as WasmMemory, h: exports['h'] as Checksummer['h'] };
    } catch {
      checksummer = null;
    }
  }
  return checksummer;
}

/** The checksum of `data` as an unsigned 64-bit value, or undefined without WebAssembly. */
export function checksum64(data: Uint8Array): bigint | undefined {
  const wasm = instance();
  if (wasm === null) return undefined;
  const missing = data.length - wasm.memory.buffer.byteLength;
  if (missing > 0) wasm.memory.grow(Math.ceil(missing / PAGE_BYTES));
  new Uint8Array(wasm.memory.buffer, 0, data.length).set(data);
  return BigInt.asUintN(64, wasm.h(0, data.length));
}
