/**
 * The XCLIENT line mailproxy sends to SMTP backends (spec §5.4 step 3), so the
 * backend logs, stamps and judges the real client instead of the proxy:
 * `XCLIENT ADDR=<ip> [LOGIN=<login>] NAME=<host>`.
 * @module
 */

const HEX = "0123456789ABCDEF";

/**
 * xtext (RFC 3461 §4) as nginx 1.29.2+ applies it to LOGIN: bytes up to 0x20, `+`,
 * `=` and bytes from 0x7F become `+HH`, so a login cannot add XCLIENT attributes.
 */
export function xtext(binary: string): string {
  let out = "";
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i) & 0xff;
    out += c <= 0x20 || c >= 0x7f || c === 0x2b || c === 0x3d
      ? "+" + HEX[c >> 4] + HEX[c & 15]
      : String.fromCharCode(c);
  }
  return out;
}

/**
 * The line with CRLF. `clientIp` is the Client-IP text (IPv6 gets the `IPV6:` prefix);
 * `login` is omitted when empty; `host` is the resolver's result.
 */
export function xclientLine(clientIp: string, login: string, host: string): string {
  const addr = clientIp.includes(":") && clientIp !== "unix:" ? `IPV6:${clientIp}` : clientIp;
  const loginPart = login.length > 0 ? ` LOGIN=${xtext(login)}` : "";
  return `XCLIENT ADDR=${addr}${loginPart} NAME=${host}\r\n`;
}
