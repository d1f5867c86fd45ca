/**
 * The login floor on Deno (issue #19): the least work an IMAP or POP3 login proxy can do on
 * Deno's native sockets, for `deno task bench`'s "floor-deno" target. Greet, read the login
 * line(s), ask auth_http over a kept-alive connection, connect the backend, read its greeting,
 * log in there, pass the final reply back, then relay both ways until close. No parsing beyond
 * line ends, no timers, no logs, no metrics: what mailproxy spends above this is its own cost.
 *
 *   deno run -A scripts/bench/floor_deno.ts PORT AUTH_PORT imap|pop3
 * @module
 */

const [port, authPort] = Deno.args.slice(0, 2).map(Number);
const protocol = Deno.args[2] === "pop3" ? "pop3" : "imap";
const enc = new TextEncoder();
const dec = new TextDecoder();
const GREETING = enc.encode(protocol === "imap" ? "* OK floor ready\r\n" : "+OK floor ready\r\n");
const POP3_OK = enc.encode("+OK\r\n");
type Conn = Deno.TcpConn;
/** Idle kept-alive auth connections (the floor's only state beyond a session). */
const pool: Conn[] = [];

/** Reads until the buffer ends in CRLF: the clients and servers here send one line per write. */
async function readLine(c: Conn, buf: Uint8Array): Promise<string | null> {
  let n = 0;
  for (;;) {
    const r = await c.read(buf.subarray(n));
    if (r === null) return null;
    n += r;
    if (n >= 2 && buf[n - 2] === 13 && buf[n - 1] === 10) return dec.decode(buf.subarray(0, n));
  }
}

async function readHttpHead(c: Conn, buf: Uint8Array): Promise<string | null> {
  let n = 0;
  for (;;) {
    const r = await c.read(buf.subarray(n));
    if (r === null) return null;
    n += r;
    const s = dec.decode(buf.subarray(0, n));
    if (s.includes("\r\n\r\n")) return s;
  }
}

async function auth(user: string, pass: string): Promise<number> {
  const c = pool.pop() ?? await Deno.connect({ hostname: "127.0.0.1", port: authPort });
  const req = `GET /auth HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nAuth-Method: plain\r\n` +
    `Auth-User: ${user}\r\nAuth-Pass: ${pass}\r\nAuth-Protocol: ${protocol}\r\nAuth-Login-Attempt: 1\r\n` +
    `Client-IP: 127.0.0.1\r\n\r\n`;
  await c.write(enc.encode(req));
  const head = await readHttpHead(c, new Uint8Array(1024));
  if (!head) throw new Error("auth closed");
  if (/Connection: keep-alive/i.test(head)) pool.push(c);
  else c.close();
  const m = /Auth-Port: (\d+)/i.exec(head);
  if (!m) throw new Error("auth refused");
  return Number(m[1]);
}

async function pump(from: Conn, to: Conn): Promise<void> {
  const buf = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch { /* closed */ }
  try {
    to.closeWrite();
  } catch { /* closed */ }
}

async function session(client: Conn): Promise<void> {
  client.setNoDelay(true);
  const buf = new Uint8Array(1024);
  try {
    await client.write(GREETING);
    let user: string, pass: string, tag = "";
    if (protocol === "imap") {
      const line = await readLine(client, buf);
      if (!line) return client.close();
      [tag, , user, pass] = line.trim().split(" ");
    } else {
      const u = await readLine(client, buf);
      if (!u) return client.close();
      user = u.trim().split(" ")[1];
      await client.write(POP3_OK);
      const p = await readLine(client, buf);
      if (!p) return client.close();
      pass = p.trim().split(" ")[1];
    }
    const backend = await Deno.connect({ hostname: "127.0.0.1", port: await auth(user, pass) });
    backend.setNoDelay(true);
    const bbuf = new Uint8Array(1024);
    await readLine(backend, bbuf);
    if (protocol === "imap") await backend.write(enc.encode(`${tag} LOGIN ${user} ${pass}\r\n`));
    else {
      await backend.write(enc.encode(`USER ${user}\r\n`));
      await readLine(backend, bbuf);
      await backend.write(enc.encode(`PASS ${pass}\r\n`));
    }
    const ok = await readLine(backend, bbuf);
    await client.write(enc.encode(ok!));
    await Promise.all([pump(client, backend), pump(backend, client)]);
    client.close();
    backend.close();
  } catch {
    try {
      client.close();
    } catch { /* closed */ }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port });
console.log(`floor deno ${protocol} on ${port}`);
for await (const c of listener) session(c as Conn);
