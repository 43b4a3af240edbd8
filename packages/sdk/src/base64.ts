/**
 * Base64 without `Buffer`, so the SDK runs unchanged in a browser: `atob`/`btoa` (global in
 * browsers and in Node ≥ 16) over byte strings, and UTF-8 through TextEncoder/TextDecoder.
 */

/** Bytes per `String.fromCharCode` call: well below every engine's argument limit. */
const CHUNK = 0x8000;

/** Encodes bytes as standard base64 (with padding). */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK)
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** Decodes standard base64 into bytes; throws on characters outside the alphabet. */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Decodes bytes as UTF-8 (invalid sequences become U+FFFD, as `Buffer#toString` does). */
export function utf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
