/**
 * Named-lock SQL, entity first: honker's statements, so a lock means the same to
 * honker-ts and to honker's extension. "now" is SQLite's `unixepoch()`; a lock whose
 * `expires_at` is at or before now is free for anyone to take.
 *
 * @module
 */

/** Drops this name's lock if it has expired. Params: name. */
export const LOCK_DELETE_EXPIRED = `DELETE FROM _honker_locks
  WHERE name = ? AND expires_at <= unixepoch()`;

/**
 * Takes the lock when nobody holds it. A row that is already there (the same owner's included)
 * is left alone, so taking a lock again never extends it: that is what renewal is for.
 * Params: name, owner, ttlS.
 */
export const LOCK_INSERT = `INSERT OR IGNORE INTO _honker_locks (name, owner, expires_at)
  VALUES (?, ?, unixepoch() + ?)`;

/** The lock's row, expired or not. Params: name. */
export const LOCK_GET = "SELECT owner, expires_at FROM _honker_locks WHERE name = ?";

/**
 * The lock's row while it has not expired. A waiter reads this first, so it never takes
 * SQLite's write lock while another owner holds the named lock. Params: name.
 */
export const LOCK_GET_LIVE = `SELECT owner, expires_at FROM _honker_locks
  WHERE name = ? AND expires_at > unixepoch()`;

/** Releases the lock if `owner` holds it, expired or not. Params: name, owner. */
export const LOCK_DELETE = "DELETE FROM _honker_locks WHERE name = ? AND owner = ?";

/**
 * Renews the lock if `owner` holds it. As in honker, an expired lock nobody took yet is revived
 * too: the owner check is what matters, since a takeover replaces the owner. Params: ttlS, name,
 * owner.
 */
export const LOCK_RENEW = `UPDATE _honker_locks SET expires_at = unixepoch() + ?
  WHERE name = ? AND owner = ?
  RETURNING expires_at`;
