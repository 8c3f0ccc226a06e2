/**
 * SQLite's result codes by name, for bindings that report an error's code only as a name:
 * better-sqlite3 gives `"SQLITE_CONSTRAINT_UNIQUE"` where SQLite said 2067. Private to
 * `adapters/`.
 *
 * @module
 */

/** The primary result codes, in the order of their numbers (SQLITE_ERROR is 1). */
const PRIMARY = [
  "ERROR",
  "INTERNAL",
  "PERM",
  "ABORT",
  "BUSY",
  "LOCKED",
  "NOMEM",
  "READONLY",
  "INTERRUPT",
  "IOERR",
  "CORRUPT",
  "NOTFOUND",
  "FULL",
  "CANTOPEN",
  "PROTOCOL",
  "EMPTY",
  "SCHEMA",
  "TOOBIG",
  "CONSTRAINT",
  "MISMATCH",
  "MISUSE",
  "NOLFS",
  "AUTH",
  "FORMAT",
  "RANGE",
  "NOTADB",
  "NOTICE",
  "WARNING",
];

/**
 * The extended codes of each primary code, in order: the n-th (from 1) is `primary | n << 8`,
 * as `sqlite3.h` numbers them (SQLITE_BUSY_SNAPSHOT = SQLITE_BUSY | 2 << 8 = 517).
 */
const EXTENDED: Readonly<Record<string, readonly string[]>> = {
  ERROR: ["MISSING_COLLSEQ", "RETRY", "SNAPSHOT", "RESERVESIZE", "KEY", "UNABLE"],
  IOERR: [
    "READ",
    "SHORT_READ",
    "WRITE",
    "FSYNC",
    "DIR_FSYNC",
    "TRUNCATE",
    "FSTAT",
    "UNLOCK",
    "RDLOCK",
    "DELETE",
    "BLOCKED",
    "NOMEM",
    "ACCESS",
    "CHECKRESERVEDLOCK",
    "LOCK",
    "CLOSE",
    "DIR_CLOSE",
    "SHMOPEN",
    "SHMSIZE",
    "SHMLOCK",
    "SHMMAP",
    "SEEK",
    "DELETE_NOENT",
    "MMAP",
    "GETTEMPPATH",
    "CONVPATH",
    "VNODE",
    "AUTH",
    "BEGIN_ATOMIC",
    "COMMIT_ATOMIC",
    "ROLLBACK_ATOMIC",
    "DATA",
    "CORRUPTFS",
    "IN_PAGE",
  ],
  LOCKED: ["SHAREDCACHE", "VTAB"],
  BUSY: ["RECOVERY", "SNAPSHOT", "TIMEOUT"],
  CANTOPEN: ["NOTEMPDIR", "ISDIR", "FULLPATH", "CONVPATH", "DIRTYWAL", "SYMLINK"],
  CORRUPT: ["VTAB", "SEQUENCE", "INDEX"],
  READONLY: ["RECOVERY", "CANTLOCK", "ROLLBACK", "DBMOVED", "CANTINIT", "DIRECTORY"],
  ABORT: ["ROLLBACK"],
  CONSTRAINT: [
    "CHECK",
    "COMMITHOOK",
    "FOREIGNKEY",
    "FUNCTION",
    "NOTNULL",
    "PRIMARYKEY",
    "TRIGGER",
    "UNIQUE",
    "VTAB",
    "ROWID",
    "PINNED",
    "DATATYPE",
  ],
  NOTICE: ["RECOVER_WAL", "RECOVER_ROLLBACK", "RBU"],
  WARNING: ["AUTOINDEX"],
  AUTH: ["USER"],
};

/** Every code by its full name, built once. */
const CODES: ReadonlyMap<string, number> = (() => {
  const codes = new Map<string, number>();
  PRIMARY.forEach((name, i) => {
    codes.set(`SQLITE_${name}`, i + 1);
    EXTENDED[name]?.forEach((suffix, n) =>
      codes.set(`SQLITE_${name}_${suffix}`, (i + 1) | (n + 1) << 8)
    );
  });
  return codes;
})();

/**
 * The result code a name stands for: a primary or extended code's name, or better-sqlite3's
 * `UNKNOWN_SQLITE_ERROR_<n>` for a code missing from its own table (SQLITE_BUSY_TIMEOUT is).
 * Undefined when the name is none of these.
 */
export function resultCodeOfName(name: string): number | undefined {
  const known = CODES.get(name);
  if (known !== undefined) return known;
  const unknown = /^UNKNOWN_SQLITE_ERROR_(\d+)$/.exec(name);
  return unknown ? Number(unknown[1]) : undefined;
}
