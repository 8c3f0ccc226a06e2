/**
 * The few foreign-function primitives our libsqlite3 binding needs, over Deno FFI and over
 * `bun:ffi`: loading a library, turning addresses into pointers, reading C strings and memory,
 * and wrapping a JS function as a C callback. Private to `adapters/`.
 *
 * The two runtimes describe native types with the same names (`"pointer"`, `"buffer"`, `"i32"`,
 * `"i64"`, `"isize"`, …), so one symbol table serves both. They differ in what a pointer is: an
 * opaque object on Deno, a number on Bun; `null` is NULL on both.
 *
 * Nothing here touches `Deno` or `bun:ffi` at import time, so importing it anywhere is harmless.
 *
 * @module
 */

import process from "node:process";

/** A C pointer: an opaque object (Deno) or an address (Bun); `null` for NULL. */
export type Pointer = object | number | null;

/** One foreign function, as both runtimes describe it. */
export interface ForeignFunction {
  /** Native parameter types. */
  readonly parameters: readonly string[];
  /** Native result type. */
  readonly result: string;
}

/** A JS function callable from C. */
export interface NativeCallback {
  /** Its C function pointer. */
  readonly pointer: Pointer;
  /** Frees it; C must not call it afterwards. */
  close(): void;
}

/** What the binding needs from the runtime's FFI. */
export interface FfiPlatform {
  /** Which runtime's FFI this is. */
  readonly runtime: "deno" | "bun";
  /** Opens a dynamic library and returns its functions. Throws when it cannot. */
  dlopen(path: string, symbols: Record<string, ForeignFunction>): unknown;
  /** The pointer at `address` (0 is NULL). */
  pointer(address: bigint): Pointer;
  /** The NUL-terminated UTF-8 string at `pointer`. */
  cString(pointer: Exclude<Pointer, null>): string;
  /** A view of `length` bytes of native memory at `pointer` (not a copy). */
  view(pointer: Exclude<Pointer, null>, length: number): ArrayBuffer;
  /** The pointer stored at `pointer + offset`. */
  readPointer(pointer: Exclude<Pointer, null>, offset: number): Pointer;
  /** Wraps `fn` as a C function of `definition`'s signature. */
  callback(
    definition: ForeignFunction,
    fn: (context: Pointer, argc: number, argv: Pointer) => void,
  ): NativeCallback;
  /** An environment variable, or undefined (also when reading it is not permitted). */
  env(key: string): string | undefined;
}

/** The subset of the `Deno` namespace the binding calls. */
interface DenoFfiLike {
  dlopen(path: string, symbols: Record<string, ForeignFunction>): { symbols: unknown };
  UnsafePointer: { create(value: bigint): object | null };
  UnsafePointerView: {
    new (pointer: object): { getPointer(offset?: number): object | null };
    getArrayBuffer(pointer: object, byteLength: number, offset?: number): ArrayBuffer;
    getCString(pointer: object, offset?: number): string;
  };
  UnsafeCallback: new (
    definition: ForeignFunction,
    callback: (context: Pointer, argc: number, argv: Pointer) => void,
  ) => { readonly pointer: object | null; close(): void };
  env: { get(key: string): string | undefined };
}

/** The subset of `bun:ffi` the binding calls. */
interface BunFfiLike {
  dlopen(
    path: string,
    symbols: Record<string, { args: readonly string[]; returns: string }>,
  ): { symbols: unknown };
  CString: new (pointer: number) => { toString(): string };
  toArrayBuffer(pointer: number, byteOffset: number, byteLength: number): ArrayBuffer;
  read: { ptr(pointer: number, byteOffset: number): number };
  JSCallback: new (
    fn: (context: Pointer, argc: number, argv: Pointer) => void,
    definition: { args: readonly string[]; returns: string },
  ) => { readonly ptr: number | null; close(): void };
}

/** Deno's FFI, or an error naming `action` when this is not Deno. */
export function denoPlatform(action: string): FfiPlatform {
  const deno = (globalThis as unknown as { Deno?: DenoFfiLike }).Deno;
  if (typeof deno?.dlopen !== "function") {
    throw new Error(`Cannot ${action}: Deno FFI is only available on Deno`);
  }
  return {
    runtime: "deno",
    dlopen: (path, symbols) => deno.dlopen(path, symbols).symbols,
    pointer: (address) => deno.UnsafePointer.create(address),
    cString: (pointer) => deno.UnsafePointerView.getCString(pointer as object),
    view: (pointer, length) => deno.UnsafePointerView.getArrayBuffer(pointer as object, length),
    readPointer: (pointer, offset) =>
      new deno.UnsafePointerView(pointer as object).getPointer(offset),
    callback: (definition, fn) => new deno.UnsafeCallback(definition, fn),
    env: (key) => {
      try {
        return deno.env.get(key) || undefined;
      } catch {
        return undefined; // no --allow-env
      }
    },
  };
}

/** Bun's `bun:ffi`, or an error naming `action` when this is not Bun. */
export function bunPlatform(action: string): FfiPlatform {
  // process.getBuiltinModule loads it synchronously, and a static import of "bun:ffi" would
  // break this module on Node and Deno.
  const load = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const isBun = (globalThis as { Bun?: unknown }).Bun !== undefined;
  const ffi = isBun && typeof load === "function" ? load("bun:ffi") as BunFfiLike : undefined;
  if (typeof ffi?.dlopen !== "function") {
    throw new Error(`Cannot ${action}: bun:ffi is only available on Bun`);
  }
  const signature = (definition: ForeignFunction) => ({
    args: definition.parameters,
    returns: definition.result,
  });
  return {
    runtime: "bun",
    dlopen: (path, symbols) => {
      const converted: Record<string, { args: readonly string[]; returns: string }> = {};
      for (const [name, definition] of Object.entries(symbols)) {
        converted[name] = signature(definition);
      }
      return ffi.dlopen(path, converted).symbols;
    },
    pointer: (address) => (address === 0n ? null : Number(address)),
    cString: (pointer) => new ffi.CString(pointer as number).toString(),
    view: (pointer, length) => ffi.toArrayBuffer(pointer as number, 0, length),
    readPointer: (pointer, offset) => ffi.read.ptr(pointer as number, offset) || null,
    callback: (definition, fn) => {
      const callback = new ffi.JSCallback(fn, signature(definition));
      return { pointer: callback.ptr, close: () => callback.close() };
    },
    env: (key) => process.env[key] || undefined,
  };
}
