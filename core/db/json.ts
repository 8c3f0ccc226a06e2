/**
 * The JSON payload contract: payloads are stored as JSON text, a string payload
 * keeps its quotes, and a value JSON cannot represent faithfully is refused before anything is
 * written, with the path of the offending part.
 *
 * @module
 */

/** Objects JSON.stringify turns into `{}` or garbage instead of refusing them. */
const UNFAITHFUL: ReadonlyArray<[new (...args: never[]) => unknown, string]> = [
  [Map, "Map"],
  [Set, "Set"],
  [WeakMap, "WeakMap"],
  [WeakSet, "WeakSet"],
  [RegExp, "RegExp"],
  [Promise, "Promise"],
  [ArrayBuffer, "ArrayBuffer"],
];

function pathOf(path: readonly (string | number)[]): string {
  let out = "$";
  for (const part of path) {
    out += typeof part === "number"
      ? `[${part}]`
      : /^[A-Za-z_$][\w$]*$/.test(part)
      ? `.${part}`
      : `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** What is wrong, and where: the path is filled in from the inside out as the walk unwinds. */
interface Problem {
  what: string;
  path: (string | number)[];
  /** What JSON would do with it, when JSON.stringify accepts it without complaint. */
  why?: string;
}

const problem = (what: string, why?: string): Problem => ({ what, path: [], why });

const isEnumerable = (object: object, key: PropertyKey): boolean =>
  Object.prototype.propertyIsEnumerable.call(object, key);

/**
 * Why an object that is neither a plain object nor an array cannot be stored: JSON drops what
 * it cannot see (Map, Set …), turns a Date into a string and any other class instance into a
 * plain object, so what a handler gets back is not what was enqueued, whatever its type says.
 */
function classProblem(object: object): Problem {
  for (const [type, label] of UNFAITHFUL) {
    if (object instanceof type) return problem(label);
  }
  if (ArrayBuffer.isView(object)) return problem(object.constructor.name);
  if (object instanceof Date) {
    return problem("Date", "JSON turns it into a string; store date.toISOString() or getTime()");
  }
  const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
  return problem(
    typeof name === "string" && name !== "" ? `${name} instance` : "class instance",
    "JSON turns it into a plain object",
  );
}

/** Why a primitive (or a function) cannot be stored; undefined for null, strings and booleans. */
function primitiveProblem(value: unknown): Problem | undefined {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? undefined : problem(String(value));
    case "bigint":
      return problem("BigInt");
    case "undefined":
    case "function":
    case "symbol":
      return problem(typeof value);
  }
  return undefined;
}

/** Why a non-array object cannot be stored as itself: a class instance, or one with toJSON. */
function shapeProblem(object: Record<string, unknown>): Problem | undefined {
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) return classProblem(object);
  if (typeof object.toJSON === "function") {
    return problem("object with toJSON", "JSON stores what toJSON returns instead");
  }
  return undefined;
}

/**
 * Returns why `value` cannot be stored faithfully as JSON, or undefined when it can. Runs on
 * every payload written, so the common shapes (plain objects, arrays, primitives) take a short
 * path: no class checks, and no path bookkeeping unless something is wrong.
 */
function findProblem(value: unknown, ancestors: object[]): Problem | undefined {
  if (value === null || typeof value !== "object") return primitiveProblem(value);
  const object = value as Record<string, unknown>;
  const isArray = Array.isArray(object);
  const shape = isArray ? undefined : shapeProblem(object);
  if (shape) return shape;
  if (Object.getOwnPropertySymbols(object).some((key) => isEnumerable(object, key))) {
    return problem("symbol key", "JSON drops it");
  }
  if (ancestors.includes(object)) return problem("circular reference");
  ancestors.push(object);
  try {
    return isArray
      ? findInArray(object as unknown as unknown[], ancestors)
      : findInObject(object, ancestors);
  } finally {
    ancestors.pop();
  }
}

/** The first problem among an array's items, its index added to the path. */
function findInArray(array: unknown[], ancestors: object[]): Problem | undefined {
  for (let i = 0; i < array.length; i++) {
    const found = findProblem(array[i], ancestors);
    if (found) return found.path.unshift(i), found;
  }
  return undefined;
}

/** The first problem among a plain object's own values, its key added to the path. */
function findInObject(object: Record<string, unknown>, ancestors: object[]): Problem | undefined {
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const found = findProblem(object[key], ancestors);
    if (found) return found.path.unshift(key), found;
  }
  return undefined;
}

/**
 * Encodes a payload as JSON text, refusing anything JSON would drop, change or fail on: what
 * is stored must read back equal to what was given, so a Date, a class instance or
 * an object with `toJSON` is refused too rather than handed back as a string or plain object.
 *
 * @param value The payload.
 * @param action What was being attempted, for the message (`enqueue to queue "emails"`).
 * @returns The JSON text to store.
 * @throws {TypeError} Naming the path of the first value that is not JSON-serialisable.
 */
export function toJsonText(value: unknown, action: string): string {
  const found = findProblem(value, []);
  if (found) {
    throw new TypeError(
      `Cannot ${action}: payload is not JSON-serialisable (${found.what} at ` +
        `${pathOf(found.path)}${found.why === undefined ? "" : `: ${found.why}`})`,
    );
  }
  return JSON.stringify(value);
}

/**
 * Decodes stored JSON text. Text that is not valid JSON (written by another client) is
 * returned as the raw string, as honker's Node binding does.
 */
export function parseJson<T>(text: string | null): T {
  if (text === null) return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}
