/**
 * Byte helpers. Credentials and protocol arguments travel through mailproxy as
 * "binary strings": one JS char per byte (latin1), so arbitrary client bytes
 * round-trip exactly between parsers, the auth service and backends.
 * @module
 */

import { Buffer } from "node:buffer";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes an ASCII/UTF-8 JS string (replies, config text) as UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8 bytes for display (logs); invalid sequences become U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Below this length a JS loop beats crossing into the runtime's native latin1 codec.
 * (Measured on Deno 2.9 and Bun 1.4: `String.fromCharCode(...spread)` cost ~15 µs for
 * 300 bytes, the native codec ~0.25 µs whatever the length; it showed in login profiles.)
 */
const NATIVE_MIN = 24;

/** Bytes → binary string (one char per byte, 0–255). */
export function toBinary(bytes: Uint8Array): string {
  if (bytes.length < NATIVE_MIN) {
    let out = "";
    for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
    return out;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** Binary string → bytes. Chars above 0xFF are truncated to their low byte, so pass only binary strings. */
export function fromBinary(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  if (text.length < NATIVE_MIN) {
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  } else {
    // A view on our own array: Buffer.from(text) could hand out a slice of its shared pool.
    Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(text, 0, "latin1");
  }
  return out;
}

/** A binary string (bytes) shown as readable UTF-8 text for logs. */
export function binaryForDisplay(text: string): string {
  return fromUtf8(fromBinary(text));
}

/** Concatenates byte arrays into one new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
