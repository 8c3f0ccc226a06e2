/**
 * Sessions and CSRF tokens. A browser gets a random session id in an HttpOnly, SameSite=Strict
 * cookie; its token is an HMAC of that id under a key made when the handler is, so the server
 * keeps no session table and a token from one session (or one server run) is worth nothing in
 * another. Every action's form carries the token; a POST without the right one is refused.
 *
 * @module
 */

/** The session cookie's name. */
export const SESSION_COOKIE = "honker_dashboard_session";

const HEX = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Makes session ids and checks their tokens. */
export class Sessions {
  #key: Promise<CryptoKey>;

  constructor() {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    this.#key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
  }

  /** A new random session id. */
  newSession(): string {
    return HEX(crypto.getRandomValues(new Uint8Array(24)));
  }

  /** The CSRF token of a session. */
  async token(session: string): Promise<string> {
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.#key,
      new TextEncoder().encode(session),
    );
    return HEX(new Uint8Array(mac));
  }

  /** Whether `token` is the token of `session` (compared in constant time). */
  async check(session: string, token: string): Promise<boolean> {
    const expected = await this.token(session);
    if (token.length !== expected.length) return false;
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ token.charCodeAt(i);
    return diff === 0;
  }
}

/** The session id in a request's cookies, if it has a well-formed one. */
export function sessionOf(request: Request): string | undefined {
  const cookies = request.headers.get("cookie") ?? "";
  for (const part of cookies.split(";")) {
    const [name, value] = part.trim().split("=", 2);
    if (name === SESSION_COOKIE && /^[0-9a-f]{48}$/.test(value ?? "")) return value;
  }
  return undefined;
}

/** The Set-Cookie value that starts a session, scoped to the dashboard's path. */
export function sessionCookie(session: string, path: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${session}; Path=${path}; HttpOnly; SameSite=Strict${
    secure ? "; Secure" : ""
  }`;
}
