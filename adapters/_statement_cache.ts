/**
 * The bounded, re-entrant cache of prepared statements every adapter keeps per connection.
 * Private to `adapters/`.
 *
 * @module
 */

/** How many prepared statements an adapter keeps before evicting the least recently used. */
export const STATEMENT_CACHE_SIZE_DEFAULT = 256;

/** A statement handed out by {@linkcode StatementCache.acquire}, to give back with `release()`. */
export interface StatementLease<S> {
  /** The prepared statement, reserved for this one execution. */
  readonly statement: S;
}

interface CacheEntry<S> extends StatementLease<S> {
  /** Its key in the map. */
  readonly sql: string;
  /** An execution holds it: a nested call with the same SQL must not reset it. */
  busy: boolean;
  /** Still in the map; an evicted or uncached statement is finalized when released. */
  cached: boolean;
}

/**
 * A bounded least-recently-used map from SQL text to a prepared statement, which never hands out
 * a statement that is still executing.
 *
 * A SQL function (honker's, called from a user's trigger) can run the very SQL whose statement
 * fired it: `honker_enqueue()` in a trigger on `_honker_live` runs the INSERT that enqueue() is
 * still stepping. Rebinding that statement would reset it mid-step (a wrong lastInsertRowid on
 * node:sqlite, SQLITE_MISUSE through FFI, a crash in some bindings), so a statement is marked
 * busy while it runs and a nested call with the same SQL gets a fresh statement of its own,
 * finalized when released. A busy statement that is evicted meanwhile is finalized on release.
 *
 * A Map keeps insertion order, so re-inserting on every hit makes the first key the least
 * recently used one.
 */
export class StatementCache<S> {
  #map = new Map<string, CacheEntry<S>>();
  #capacity: number;
  #finalize: (statement: S) => void;

  /** Creates a cache that finalizes statements it evicts. */
  constructor(capacity: number, finalize: (statement: S) => void) {
    this.#capacity = capacity;
    this.#finalize = finalize;
  }

  /**
   * Reserves the statement for `sql`, preparing (and caching) it on a miss, or preparing an
   * uncached one when the cached statement is still executing. Always pair with `release()`.
   */
  acquire(sql: string, prepare: (sql: string) => S): StatementLease<S> {
    const hit = this.#map.get(sql);
    if (hit !== undefined) {
      if (hit.busy) {
        const fresh: CacheEntry<S> = { sql, statement: prepare(sql), busy: true, cached: false };
        return fresh;
      }
      this.#map.delete(sql);
      this.#map.set(sql, hit);
      hit.busy = true;
      return hit;
    }
    const entry: CacheEntry<S> = { sql, statement: prepare(sql), busy: true, cached: true };
    this.#map.set(sql, entry);
    if (this.#map.size > this.#capacity) {
      const oldest = this.#map.keys().next().value as string;
      this.#forget(this.#map.get(oldest)!);
      this.#map.delete(oldest);
    }
    return entry;
  }

  /** Gives back a statement from `acquire()`: it is free for reuse, or finalized if uncached. */
  release(lease: StatementLease<S>): void {
    const entry = lease as CacheEntry<S>;
    entry.busy = false;
    if (!entry.cached) this.#finalize(entry.statement);
  }

  /**
   * Gives back a statement whose execution failed, finalizing and forgetting it: a binding that
   * leaves a failed statement un-reset (@db/sqlite) would otherwise keep it active, and with it
   * the connection's implicit transaction, so later writes would stay uncommitted.
   */
  discard(lease: StatementLease<S>): void {
    const entry = lease as CacheEntry<S>;
    if (entry.cached && this.#map.get(entry.sql) === entry) this.#map.delete(entry.sql);
    entry.busy = false;
    entry.cached = false;
    this.#finalize(entry.statement);
  }

  #forget(entry: CacheEntry<S>): void {
    entry.cached = false;
    if (!entry.busy) this.#finalize(entry.statement);
  }

  /** Finalizes and forgets every cached statement (one still executing, when released). */
  clear(): void {
    for (const entry of this.#map.values()) this.#forget(entry);
    this.#map.clear();
  }

  /** How many statements are cached. */
  get size(): number {
    return this.#map.size;
  }
}
