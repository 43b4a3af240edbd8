/**
 * The one id generator. Every object id is `<kind>_` + 9 base-36 characters of wall-clock time (so
 * ids sort roughly by creation) + 12 random base-32 characters (60 bits: collisions are not a
 * practical concern). All characters are lowercase letters, digits and one `_`, so an id is also
 * a valid runtime sandbox id, host directory name and cgroup name.
 *
 * The randomness is Web Crypto's (`globalThis.crypto`, in Node ≥ 19 and every browser) rather
 * than `node:crypto`, so that `@tartarus/core/base` stays free of Node modules and the SDK can be
 * bundled for a browser.
 */

/** Kind prefixes of the ids the platform hands out. */
export const ID_KINDS = ['sbx', 'run', 'key', 'ten', 'node', 'aud', 'ntk', 'whk', 'dlv', 'dep', 'snp'] as const;
/** An id kind. */
export type IdKind = (typeof ID_KINDS)[number];

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new id of `kind`, e.g. `sbx_mabc12345k3j…`. */
export function newId(kind: IdKind): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const random = [...globalThis.crypto.getRandomValues(new Uint8Array(12))].map((b) => ALPHABET[b & 31]).join('');
  return `${kind}_${time}${random}`;
}

/** The kind of an id made by `newId`, or undefined for any other string. */
export function idKind(id: string): IdKind | undefined {
  const prefix = id.slice(0, id.indexOf('_'));
  return (ID_KINDS as readonly string[]).includes(prefix) ? (prefix as IdKind) : undefined;
}
