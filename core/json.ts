/**
 * The JSON payload contract (spec §0.3): payloads are stored as JSON text, a string payload
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

/** Returns why `value` cannot be stored faithfully as JSON, or undefined when it can. */
function findProblem(
  value: unknown,
  path: (string | number)[],
  ancestors: Set<object>,
): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${value} at ${pathOf(path)}`;
    case "bigint":
      return `BigInt at ${pathOf(path)}`;
    case "undefined":
      return `undefined at ${pathOf(path)}`;
    case "function":
      return `function at ${pathOf(path)}`;
    case "symbol":
      return `symbol at ${pathOf(path)}`;
  }
  if (value === null) return undefined;
  const object = value as Record<string, unknown>;
  if (typeof object.toJSON === "function") return undefined;
  for (const [type, label] of UNFAITHFUL) {
    if (object instanceof type) return `${label} at ${pathOf(path)}`;
  }
  if (ArrayBuffer.isView(object)) return `${object.constructor.name} at ${pathOf(path)}`;
  if (ancestors.has(object)) return `circular reference at ${pathOf(path)}`;
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        path.push(i);
        const problem = findProblem(object[i], path, ancestors);
        path.pop();
        if (problem) return problem;
      }
      return undefined;
    }
    for (const key of Object.keys(object)) {
      path.push(key);
      const problem = findProblem(object[key], path, ancestors);
      path.pop();
      if (problem) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(object);
  }
}

/**
 * Encodes a payload as JSON text, refusing anything JSON would drop, change or fail on.
 *
 * @param value The payload.
 * @param action What was being attempted, for the message (`enqueue to queue "emails"`).
 * @returns The JSON text to store.
 * @throws {TypeError} Naming the path of the first value that is not JSON-serialisable.
 */
export function toJsonText(value: unknown, action: string): string {
  const problem = findProblem(value, [], new Set());
  if (problem) {
    throw new TypeError(`Cannot ${action}: payload is not JSON-serialisable (${problem})`);
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
