import assert from "node:assert/strict";
import {
  AuthReplyParser,
  buildAuthRequest,
  decide,
  escapeAuthValue,
  requestHasPassword,
} from "./http_codec.ts";
import type { ParsedReply, ReplyError } from "./http_codec.ts";
import type { AuthRequest } from "./types.ts";
import type { MailProtocol } from "../types.ts";
import type { AuthHttpUrl } from "../config/types.ts";
import { toBinary, utf8 } from "../util/bytes.ts";

const URL_TCP: AuthHttpUrl = {
  raw: "http://127.0.0.1:9000/auth?x=1",
  transport: "tcp",
  host: "127.0.0.1",
  port: 9000,
  uri: "/auth?x=1",
  hostHeader: "127.0.0.1",
};

function request(over: Partial<AuthRequest>): AuthRequest {
  return {
    protocol: "imap",
    method: "plain",
    user: "",
    pass: "",
    attempt: 1,
    clientIp: "192.0.2.1",
    clientPort: 50000,
    sessionId: "s1",
    ...over,
  };
}

function text(bytes: Uint8Array): string {
  return toBinary(bytes);
}

function lines(...l: string[]): string {
  return l.map((x) => x + "\r\n").join("");
}

Deno.test("escapeAuthValue: controls, space and % only, uppercase hex", () => {
  assert.equal(escapeAuthValue("a b%\n"), "a%20b%25%0A");
  assert.equal(escapeAuthValue("\x00\x1f\x20\x21+\x7f\xff"), "%00%1F%20!+\x7f\xff");
});

Deno.test("buildAuthRequest: plain IMAP with escaping and extra headers in config order", () => {
  const bytes = buildAuthRequest(
    URL_TCP,
    request({ user: "a b%\n", pass: "p\x00ss w" }),
    [["X-Zed", "1"], ["X-Alpha", "two words"]],
  );
  assert.equal(
    text(bytes),
    lines(
      "GET /auth?x=1 HTTP/1.0",
      "Host: 127.0.0.1",
      "Auth-Method: plain",
      "Auth-User: a%20b%25%0A",
      "Auth-Pass: p%00ss%20w",
      "Auth-Protocol: imap",
      "Auth-Login-Attempt: 1",
      "Client-IP: 192.0.2.1",
      "X-Zed: 1",
      "X-Alpha: two words",
      "",
    ),
  );
});

Deno.test("buildAuthRequest: UTF-8 credentials pass as raw bytes (>= 0x80 not escaped)", () => {
  const user = toBinary(utf8("jürgen"));
  const bytes = buildAuthRequest(URL_TCP, request({ user, pass: "x" }), [["X-Note", "grüße"]]);
  const s = text(bytes);
  assert.ok(s.includes(`Auth-User: ${user}\r\n`));
  assert.ok(s.includes(`X-Note: ${toBinary(utf8("grüße"))}\r\n`));
});

Deno.test("buildAuthRequest: APOP POP3 with salt, PROXY protocol and TLS", () => {
  const bytes = buildAuthRequest(
    { ...URL_TCP, host: "[::1]", hostHeader: "[::1]", uri: "/" },
    request({
      protocol: "pop3",
      method: "apop",
      user: "bob",
      pass: "0123456789abcdef0123456789abcdef",
      salt: "<12345.1700000000@mail.example>",
      attempt: 2,
      clientIp: "2001:db8::1",
      proxyProtocol: { srcAddr: "198.51.100.7", srcPort: 4711, dstAddr: "203.0.113.1", dstPort: 110 },
      tls: {
        protocol: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        verify: "SUCCESS",
        subject: "CN=bob",
        issuer: "CN=ca",
        serial: "0A1B",
        fingerprint: "00ff",
        certPem: "-----BEGIN CERTIFICATE-----\nAB+C\n-----END CERTIFICATE-----\n",
      },
    }),
    [],
    { passClientCert: true },
  );
  assert.equal(
    text(bytes),
    lines(
      "GET / HTTP/1.0",
      "Host: [::1]",
      "Auth-Method: apop",
      "Auth-User: bob",
      "Auth-Pass: 0123456789abcdef0123456789abcdef",
      "Auth-Salt: <12345.1700000000@mail.example>",
      "Auth-Protocol: pop3",
      "Auth-Login-Attempt: 2",
      "Client-IP: 2001:db8::1",
      "Proxy-Protocol-Addr: 198.51.100.7",
      "Proxy-Protocol-Port: 4711",
      "Proxy-Protocol-Server-Addr: 203.0.113.1",
      "Proxy-Protocol-Server-Port: 110",
      "Auth-SSL: on",
      "Auth-SSL-Protocol: TLSv1.3",
      "Auth-SSL-Cipher: TLS_AES_256_GCM_SHA384",
      "Auth-SSL-Verify: SUCCESS",
      "Auth-SSL-Subject: CN=bob",
      "Auth-SSL-Issuer: CN=ca",
      "Auth-SSL-Serial: 0A1B",
      "Auth-SSL-Fingerprint: 00ff",
      "Auth-SSL-Cert: -----BEGIN%20CERTIFICATE-----%0AAB+C%0A-----END%20CERTIFICATE-----%0A",
      "",
    ),
  );
});

Deno.test("buildAuthRequest: client cert only with passClientCert; empty TLS fields omitted", () => {
  const s = text(buildAuthRequest(URL_TCP, request({ tls: { protocol: "TLSv1.2", certPem: "x" } }), []));
  assert.ok(!s.includes("Auth-SSL-Cert"));
  assert.ok(s.endsWith("Client-IP: 192.0.2.1\r\nAuth-SSL: on\r\nAuth-SSL-Protocol: TLSv1.2\r\n\r\n"));
});

Deno.test("buildAuthRequest: CRAM-MD5 SMTP with client host, salt sent", () => {
  const s = text(buildAuthRequest(
    URL_TCP,
    request({
      protocol: "smtp",
      method: "cram-md5",
      user: "carol",
      pass: "fedcba9876543210fedcba9876543210",
      salt: "<1.2@mx>",
      clientHost: "[UNAVAILABLE]",
    }),
    [],
  ));
  assert.equal(
    s,
    lines(
      "GET /auth?x=1 HTTP/1.0",
      "Host: 127.0.0.1",
      "Auth-Method: cram-md5",
      "Auth-User: carol",
      "Auth-Pass: fedcba9876543210fedcba9876543210",
      "Auth-Salt: <1.2@mx>",
      "Auth-Protocol: smtp",
      "Auth-Login-Attempt: 1",
      "Client-IP: 192.0.2.1",
      "Client-Host: [UNAVAILABLE]",
      "",
    ),
  );
});

Deno.test("buildAuthRequest: plain never sends Auth-Salt even when a salt exists", () => {
  const s = text(buildAuthRequest(URL_TCP, request({ salt: "<1.2@x>" }), []));
  assert.ok(!s.includes("Auth-Salt"));
});

Deno.test("buildAuthRequest: SMTP none sends empty credentials and the raw SMTP lines", () => {
  const s = text(buildAuthRequest(
    URL_TCP,
    request({
      protocol: "smtp",
      method: "none",
      clientHost: "mx.example.org",
      smtp: { helo: "client.example", from: "MAIL FROM:<a@b> SIZE=100", to: "RCPT TO:<c d@e>" },
    }),
    [["X-Auth-Key", "secret"]],
  ));
  assert.equal(
    s,
    lines(
      "GET /auth?x=1 HTTP/1.0",
      "Host: 127.0.0.1",
      "Auth-Method: none",
      "Auth-User: ",
      "Auth-Pass: ",
      "Auth-Protocol: smtp",
      "Auth-Login-Attempt: 1",
      "Client-IP: 192.0.2.1",
      "Client-Host: mx.example.org",
      "Auth-SMTP-Helo: client.example",
      "Auth-SMTP-From: MAIL FROM:<a@b> SIZE=100",
      "Auth-SMTP-To: RCPT TO:<c d@e>",
      "X-Auth-Key: secret",
      "",
    ),
  );
});

Deno.test("buildAuthRequest: CR/LF in raw values cannot inject headers", () => {
  const s = text(buildAuthRequest(
    URL_TCP,
    request({ protocol: "smtp", method: "none", smtp: { helo: "x\r\nAuth-Status: OK", from: "", to: "" } }),
    [],
  ));
  assert.ok(s.includes("Auth-SMTP-Helo: x  Auth-Status: OK\r\n"));
});

Deno.test("requestHasPassword: plain yes, digests forgotten after salt, external only with leftovers", () => {
  assert.equal(requestHasPassword(request({})), true);
  assert.equal(requestHasPassword(request({ method: "apop", pass: "d", salt: "<s>" })), false);
  assert.equal(requestHasPassword(request({ method: "cram-md5", pass: "d", salt: "<s>" })), false);
  assert.equal(requestHasPassword(request({ method: "external" })), false);
  assert.equal(requestHasPassword(request({ method: "external", pass: "old" })), true);
});

// ---- reply parsing ----------------------------------------------------------------

function parse(reply: string, chunk = Infinity): ParsedReply | "more" | ReplyError {
  const p = new AuthReplyParser();
  const bytes = new TextEncoder().encode(reply);
  let r: ParsedReply | "more" | ReplyError = "more";
  for (let i = 0; i < bytes.length && r === "more"; i += Math.min(chunk, bytes.length)) {
    r = p.feed(bytes.subarray(i, i + Math.min(chunk, bytes.length)));
  }
  return r;
}

function parsed(reply: string): ParsedReply {
  const whole = parse(reply);
  // Byte-by-byte feeding must give the same answer as one chunk.
  assert.deepEqual(parse(reply, 1), whole);
  assert.ok(
    typeof whole === "object" && !("error" in whole),
    `expected a reply, got ${JSON.stringify(whole)}`,
  );
  return whole as ParsedReply;
}

function parseError(reply: string): string {
  const whole = parse(reply);
  assert.deepEqual(parse(reply, 1), whole);
  assert.ok(typeof whole === "object" && "error" in whole, `expected an error, got ${JSON.stringify(whole)}`);
  return (whole as ReplyError).error;
}

const OK = "Auth-Status: OK\r\nAuth-Server: 10.0.0.5\r\nAuth-Port: 143\r\n";

Deno.test("reply: status line skipped whatever the code", () => {
  for (const code of ["200 OK", "204 No Content", "403 Forbidden", "500 Oops"]) {
    assert.deepEqual(parsed(`HTTP/1.0 ${code}\r\n${OK}\r\n`), {
      wait: false,
      server: "10.0.0.5",
      port: "143",
    });
  }
});

Deno.test("reply: without HTTP/ the first line is a header", () => {
  assert.deepEqual(parsed(`${OK}\r\n`), { wait: false, server: "10.0.0.5", port: "143" });
  assert.equal(parsed("HTTP\r\nAuth-Port: 1\r\n\r\n").port, "1");
  assert.equal(parseError("HTTX/1.0 200 OK\r\n\r\n"), "sent invalid header in response");
  assert.equal(parseError("http/1.0 200 OK\r\n\r\n"), "sent invalid header in response");
});

Deno.test("reply: LF-only line ends, body ignored, feeding after the end repeats the result", () => {
  const r = parsed(
    "HTTP/1.1 200 OK\nAuth-Status: OK\nAuth-Server: 10.0.0.5\nAuth-Port: 143\n\nbody\r\nAuth-Port: 9\r\n",
  );
  assert.equal(r.port, "143");
  const p = new AuthReplyParser();
  const first = p.feed(new TextEncoder().encode(`${OK}\r\n`));
  assert.deepEqual(p.feed(new TextEncoder().encode("Auth-Port: 7\r\n")), first);
});

Deno.test("reply: invalid header names are fatal", () => {
  for (
    const bad of ["Auth_Status: OK", " Auth-Status: OK", "Auth-Status : OK", "-Auth: x", "Auth.Status: x"]
  ) {
    assert.equal(parseError(`HTTP/1.0 200 OK\r\n${bad}\r\n\r\n`), "sent invalid header in response", bad);
  }
});

Deno.test("reply: bare CR is an error in the status line, a header, and the blank line", () => {
  assert.equal(parseError("HTTP/1.0 200\rX\r\n\r\n"), "sent invalid response");
  assert.equal(parseError("Auth-Status: OK\rX\r\n\r\n"), "sent invalid header in response");
  assert.equal(parseError("Auth-Status\rX\r\n\r\n"), "sent invalid header in response");
  assert.equal(parseError(`${OK}\rX`), "sent invalid header in response");
});

Deno.test("reply: the head must fit in 1024 bytes", () => {
  const filler = (n: number) => `X-Pad: ${"a".repeat(n - 9)}\r\n`;
  // Exactly 1024 bytes including the blank line: accepted.
  const head = `HTTP/1.0 200 OK\r\n${OK}`;
  const exact = head + filler(1024 - head.length - 2) + "\r\n";
  assert.equal(exact.length, 1024);
  assert.equal(parsed(exact).server, "10.0.0.5");
  // One byte more: the blank line is byte 1025.
  const over = head + filler(1025 - head.length - 2) + "\r\n";
  assert.match(parseError(over), /too long/);
  // A huge status line alone overflows too.
  assert.match(parseError(`HTTP/1.0 200 ${"x".repeat(2000)}\r\n\r\n`), /too long/);
});

Deno.test("reply: name-only line is an empty value; values trimmed at the end only", () => {
  const r = parsed("Auth-Status\r\nAuth-User:\r\nAuth-Pass:   a  b \t x   \r\n\r\n");
  assert.equal(r.failure, "");
  assert.equal(r.user, "");
  assert.equal(r.pass, "a  b \t x");
});

Deno.test("reply: names are case-insensitive; repeated headers: last wins; unknown ignored", () => {
  const r = parsed(
    "auth-server: 10.0.0.1\r\nAUTH-SERVER: 10.0.0.2\r\nAuth-Port: 1\r\nauth-port: 2\r\nX-Other: y\r\n" +
      "Auth-User: a\r\nAuth-User: b\r\nAuth-Error-Code: 451 4.3.0\r\n\r\n",
  );
  assert.deepEqual(r, { wait: false, server: "10.0.0.2", port: "2", user: "b", errorCode: "451 4.3.0" });
});

Deno.test("reply: Auth-Status values are exact; a failure is sticky; WAIT is recorded", () => {
  assert.equal(parsed("Auth-Status: ok\r\n\r\n").failure, "ok");
  assert.equal(parsed("Auth-Status: Bad one\r\nAuth-Status: OK\r\n\r\n").failure, "Bad one");
  assert.equal(parsed("Auth-Status: First\r\nAuth-Status: Second\r\n\r\n").failure, "Second");
  const w = parsed("Auth-Status: WAIT\r\nAuth-Status: OK\r\nAuth-Wait: 3\r\n\r\n");
  assert.equal(w.wait, true);
  assert.equal(w.waitSeconds, 3);
});

Deno.test("reply: invalid Auth-Wait values are ignored (the previous valid one stays)", () => {
  assert.equal(parsed("Auth-Wait: 3\r\nAuth-Wait: x\r\n\r\n").waitSeconds, 3);
  assert.equal(parsed("Auth-Wait: -1\r\n\r\n").waitSeconds, undefined);
  assert.equal(parsed("Auth-Wait: +2\r\n\r\n").waitSeconds, undefined);
  assert.equal(parsed("Auth-Wait:\r\n\r\n").waitSeconds, undefined);
  assert.equal(parsed("Auth-Wait: 99999999999999999999\r\n\r\n").waitSeconds, undefined);
  assert.equal(parsed("Auth-Wait: 0\r\n\r\n").waitSeconds, 0);
  assert.equal(parsed("Auth-Wait: 5  \r\n\r\n").waitSeconds, 5);
});

// ---- decision ---------------------------------------------------------------------

function decideText(reply: string, protocol: MailProtocol = "imap", hasPassword = true) {
  return decide(parsed(reply), protocol, { hasPassword, peer: "127.0.0.1:9000" });
}

Deno.test("decide: OK with server, port and replacement credentials", () => {
  assert.deepEqual(decideText(`${OK}\r\n`), { status: "ok", server: "10.0.0.5", port: 143 });
  assert.deepEqual(decideText(`${OK}Auth-User: real\r\nAuth-Pass: \r\n\r\n`), {
    status: "ok",
    server: "10.0.0.5",
    port: 143,
    user: "real",
    pass: "",
  });
  // No Auth-Status at all is not a failure.
  assert.deepEqual(decideText("Auth-Server: 10.0.0.5\r\nAuth-Port: 143\r\n\r\n").status, "ok");
});

Deno.test("decide: failure carries message and wait; error code for SMTP only", () => {
  const r = "Auth-Status: Invalid login\r\nAuth-Wait: 3\r\nAuth-Error-Code: 451 4.3.0\r\n\r\n";
  assert.deepEqual(decideText(r, "smtp"), {
    status: "fail",
    message: "Invalid login",
    wait: 3,
    errorCode: "451 4.3.0",
  });
  assert.deepEqual(decideText(r, "pop3"), { status: "fail", message: "Invalid login", wait: 3 });
  assert.deepEqual(decideText("Auth-Status: No\r\n\r\n", "imap"), { status: "fail", message: "No", wait: 0 });
  // A failure wins over WAIT and over a complete server/port.
  assert.equal(decideText(`Auth-Status: WAIT\r\nAuth-Status: No\r\n${OK}\r\n`).status, "fail");
});

Deno.test("decide: empty Auth-Status is a failure except for SMTP", () => {
  assert.deepEqual(decideText(`Auth-Status:\r\n\r\n`, "pop3"), { status: "fail", message: "", wait: 0 });
  assert.deepEqual(decideText(`Auth-Status:\r\n\r\n`, "imap"), { status: "fail", message: "", wait: 0 });
  assert.deepEqual(decideText(`Auth-Status:\r\nAuth-Server: 10.0.0.5\r\nAuth-Port: 25\r\n\r\n`, "smtp"), {
    status: "ok",
    server: "10.0.0.5",
    port: 25,
  });
  // For SMTP the last failure value counts: an empty one after a message clears it (nginx).
  assert.equal(decideText(`Auth-Status: No\r\nAuth-Status:\r\n${OK}\r\n`, "smtp").status, "ok");
});

Deno.test("decide: WAIT asks again after Auth-Wait seconds", () => {
  assert.deepEqual(decideText("Auth-Status: WAIT\r\nAuth-Wait: 2\r\n\r\n"), { status: "wait", wait: 2 });
  assert.deepEqual(decideText("Auth-Status: WAIT\r\n\r\n"), { status: "wait", wait: 0 });
});

Deno.test("decide: missing or empty server/port is an error", () => {
  for (const r of ["Auth-Status: OK\r\n\r\n", "Auth-Server: 10.0.0.1\r\n\r\n", "Auth-Port: 1\r\n\r\n"]) {
    assert.deepEqual(decideText(r), {
      status: "error",
      reason: "auth http server 127.0.0.1:9000 did not send server or port",
    });
  }
  assert.equal(decideText("Auth-Server:\r\nAuth-Port: 143\r\n\r\n").status, "error");
  assert.deepEqual(decide(parsed("Auth-Status: OK\r\n\r\n"), "imap", { hasPassword: true }), {
    status: "error",
    reason: "auth http server did not send server or port",
  });
});

Deno.test("decide: POP3/IMAP need a password, SMTP does not", () => {
  for (const protocol of ["pop3", "imap"] as const) {
    assert.deepEqual(decideText(`${OK}\r\n`, protocol, false), {
      status: "error",
      reason: "auth http server 127.0.0.1:9000 did not send password",
    });
    assert.equal(decideText(`${OK}Auth-Pass:\r\n\r\n`, protocol, false).status, "ok");
  }
  assert.equal(decideText(`${OK}\r\n`, "smtp", false).status, "ok");
});

Deno.test("decide: server must be an IPv4 or bare IPv6 literal", () => {
  const server = (s: string) => decideText(`Auth-Server: ${s}\r\nAuth-Port: 143\r\n\r\n`);
  for (
    const bad of ["mail.example.org", "localhost", "[::1]", "10.0.0", "10.0.0.256", "fe80::1%eth0", "1..2.3"]
  ) {
    const r = server(bad);
    assert.equal(r.status, "error", bad);
    assert.match((r as { reason: string }).reason, /sent invalid server address/);
  }
  assert.deepEqual(server("::1"), { status: "ok", server: "::1", port: 143 });
  assert.deepEqual(server("2001:db8::5"), { status: "ok", server: "2001:db8::5", port: 143 });
  assert.deepEqual(server("010.000.000.005"), { status: "ok", server: "10.0.0.5", port: 143 });
});

Deno.test("decide: port must be 1..65535", () => {
  const port = (p: string) => decideText(`Auth-Server: 10.0.0.5\r\nAuth-Port: ${p}\r\n\r\n`);
  for (const bad of ["0", "65536", "143a", "-1", "99999999999999999999"]) {
    const r = port(bad);
    assert.equal(r.status, "error", bad);
    assert.match((r as { reason: string }).reason, /sent invalid server port/);
  }
  assert.equal((port("65535") as { port: number }).port, 65535);
  assert.equal((port("1") as { port: number }).port, 1);
});

Deno.test("decide: Auth-Upstream wins over Auth-Server; Auth-Server alone keeps nginx's meaning", () => {
  const opts = { hasPassword: true, peer: "127.0.0.1:9000" };
  const both = parsed(`${OK}Auth-Upstream: imap_main\r\nAuth-User: alice@example.org\r\n\r\n`);
  assert.deepEqual(decide(both, "imap", opts), {
    status: "ok",
    server: "",
    port: 0,
    upstream: "imap_main",
    user: "alice@example.org",
  });
  assert.deepEqual(decide(parsed(`${OK}\r\n`), "imap", { ...opts, defaultUpstream: "pool" }), {
    status: "ok",
    server: "10.0.0.5",
    port: 143,
  });
  // No backend named at all: the server's default upstream, else nginx's error.
  const bare = parsed("Auth-Status: OK\r\n\r\n");
  assert.deepEqual(decide(bare, "pop3", { ...opts, defaultUpstream: "pool" }), {
    status: "ok",
    server: "",
    port: 0,
    upstream: "pool",
  });
  assert.equal(
    (decide(bare, "pop3", opts) as { reason: string }).reason,
    "auth http server 127.0.0.1:9000 did not send server or port",
  );
  // The password rule applies to upstream replies too (APOP / CRAM-MD5).
  assert.equal(
    (decide(parsed("Auth-Status: OK\r\nAuth-Upstream: p\r\n\r\n"), "imap", { hasPassword: false }) as {
      reason: string;
    }).reason,
    "auth http server did not send password",
  );
  assert.deepEqual(
    decide(parsed("Auth-Status: OK\r\nAuth-Upstream: bad name\r\n\r\n"), "imap", opts),
    { status: "error", reason: 'auth http server 127.0.0.1:9000 sent invalid Auth-Upstream:"bad name"' },
  );
});

Deno.test("decide: Auth-Cache: no and Auth-Cache-TTL reach the result (mailproxy's [auth_cache])", () => {
  const ok = decide(
    parsed(
      "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 143\r\nAuth-Cache: No\r\n\r\n",
    ),
    "imap",
    { hasPassword: true },
  );
  assert.deepEqual(ok, { status: "ok", server: "127.0.0.1", port: 143, cache: { no: true } });
  const fail = decide(
    parsed("HTTP/1.0 200 OK\r\nAuth-Status: Invalid\r\nAuth-Cache-TTL: x\r\nAuth-Cache-TTL: 60\r\n\r\n"),
    "imap",
    { hasPassword: true },
  );
  assert.deepEqual(fail, { status: "fail", message: "Invalid", wait: 0, cache: { ttlSeconds: 60 } });
  const plain = decide(
    parsed("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 143\r\n\r\n"),
    "imap",
    { hasPassword: true },
  );
  assert.equal("cache" in (plain as object), false);
});

Deno.test("OAuth (freenginx 1.27.1): Auth-Method, authzid as Auth-User, token as Auth-Pass", () => {
  const url: AuthHttpUrl = {
    host: "127.0.0.1",
    port: 9000,
    uri: "/auth",
    hostHeader: "127.0.0.1",
  } as AuthHttpUrl;
  const req = {
    protocol: "imap",
    method: "oauthbearer",
    user: "",
    pass: "eyJ.tok",
    attempt: 1,
    clientIp: "192.0.2.1",
    clientPort: 1,
  } as AuthRequest;
  const head = toBinary(buildAuthRequest(url, req, []));
  assert.match(head, /\r\nAuth-Method: oauthbearer\r\nAuth-User: \r\nAuth-Pass: eyJ.tok\r\n/);
  assert.equal(requestHasPassword(req), true);
});

Deno.test("OAuth: Auth-Error-SASL on a failure becomes the challenge; with OK it is an internal error", () => {
  const fail = parsed(
    "HTTP/1.0 200 OK\r\nAuth-Status: Invalid token\r\nAuth-Error-SASL: eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n\r\n",
  );
  assert.deepEqual(decide(fail, "imap", { hasPassword: true, oauth: true }), {
    status: "fail",
    message: "Invalid token",
    wait: 0,
    saslError: "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=",
  });
  // Not an OAuth attempt: the header is ignored, as before.
  assert.deepEqual(decide(fail, "imap", { hasPassword: true }), {
    status: "fail",
    message: "Invalid token",
    wait: 0,
  });
  const ok = parsed(
    "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 143\r\nAuth-Error-SASL: e30=\r\n\r\n",
  );
  assert.equal(decide(ok, "imap", { hasPassword: true, oauth: true }).status, "error");
  const bad = parsed("HTTP/1.0 200 OK\r\nAuth-Status: No\r\nAuth-Error-SASL: not base64!\r\n\r\n");
  assert.equal(decide(bad, "smtp", { hasPassword: true, oauth: true }).status, "error");
});
