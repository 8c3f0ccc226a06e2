/**
 * Typed payloads through Standard Schema (https://standardschema.dev): any validator that
 * implements the `~standard` interface — zod, valibot, arktype and others — without a
 * dependency on any of them.
 *
 * @module
 */

/** One problem a validator found. */
export interface StandardIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where, as keys or `{ key }` segments. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
}

/** What `validate` returns: the (possibly transformed) value, or the issues. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

/**
 * The Standard Schema v1 interface, as validators expose it.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What it produces.
 *
 * @example A hand-written schema
 * ```ts ignore
 * const Email: StandardSchemaV1<{ to: string }> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) =>
 *       typeof (v as { to?: unknown })?.to === "string"
 *         ? { value: v as { to: string } }
 *         : { issues: [{ message: "to must be a string", path: ["to"] }] },
 *   },
 * };
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The standard's properties. */
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output };
  };
}

/** Checks that `schema` implements Standard Schema v1. */
export function requireSchema(schema: unknown, action: string): StandardSchemaV1 {
  const std = (schema as StandardSchemaV1 | null)?.["~standard"];
  if (typeof std?.validate !== "function") {
    throw new TypeError(
      `Cannot ${action}: schema must implement Standard Schema v1 (a "~standard" property with ` +
        "a validate function, as zod, valibot and arktype provide)",
    );
  }
  return schema as StandardSchemaV1;
}

function describeIssues(issues: ReadonlyArray<StandardIssue>): string {
  return issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => typeof p === "object" ? p.key : p);
    return path.length === 0
      ? issue.message
      : `${issue.message} at $.${path.map(String).join(".")}`;
  }).join("; ");
}

/**
 * Validates synchronously; returns the validator's output value or the text of its issues.
 * Queue and stream writes are synchronous (they may run inside a transaction), so a schema
 * whose validation is asynchronous is refused.
 */
export function checkPayload(
  schema: StandardSchemaV1,
  value: unknown,
  action: string,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const result = schema["~standard"].validate(value);
  if (result instanceof Promise) {
    result.then(undefined, () => {});
    throw new TypeError(
      `Cannot ${action}: the schema validates asynchronously; honker-ts validates payloads ` +
        "synchronously (writes can run inside a transaction), so use a synchronous schema",
    );
  }
  return result.issues ? { ok: false, message: describeIssues(result.issues) } : {
    ok: true,
    value: result.value,
  };
}

/**
 * Validates a payload about to be written; throws a TypeError naming the issues. Only the
 * verdict is used: the payload is stored as the caller gave it (the schema's input), and
 * transformed once, when it is read back (`validateForRead`), so a transforming schema is
 * never applied twice.
 */
export function validateForWrite(
  schema: StandardSchemaV1 | undefined,
  value: unknown,
  action: string,
): void {
  if (schema === undefined) return;
  const checked = checkPayload(schema, value, action);
  if (!checked.ok) {
    throw new TypeError(`Cannot ${action}: payload does not match the schema (${checked.message})`);
  }
}

/**
 * Validates a stored payload read back and returns the schema's output; throws a TypeError
 * naming `what` (`the event at offset 7`) and the issues when it no longer matches.
 */
export function validateForRead(
  schema: StandardSchemaV1,
  value: unknown,
  what: string,
  action: string,
): unknown {
  const checked = checkPayload(schema, value, action);
  if (!checked.ok) {
    throw new TypeError(
      `Cannot ${action}: ${what} does not match the schema (${checked.message})`,
    );
  }
  return checked.value;
}
