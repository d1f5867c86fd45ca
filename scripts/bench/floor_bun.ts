/**
 * The login floor on Bun (issue #19): the same steps as floor_deno.ts on `Bun.listen` /
 * `Bun.connect`, callback style, for `deno task bench`'s "floor-bun" target. Type-checked by
 * Deno with a minimal local view of Bun's socket API.
 *
 *   bun run scripts/bench/floor_bun.ts PORT AUTH_PORT imap|pop3
 * @module
 */

import process from "node:process";
import { Buffer } from "node:buffer";

/** The part of Bun's socket API the floor uses. */
interface Sock<T> {
  data: T;
  write(d: string | Uint8Array): number;
  end(): void;
  setNoDelay?(on: boolean): void;
}
interface Handlers<T> {
  open?(s: Sock<T>): void;
  data(s: Sock<T>, d: Buffer): void;
  close(s: Sock<T>): void;
  error(s: Sock<T>): void;
}
interface BunNet {
  listen<T>(o: { hostname: string; port: number; socket: Handlers<T> }): unknown;
  connect<T>(o: { hostname: string; port: number; socket: Handlers<T>; data?: T }): Promise<Sock<T>>;
}
const Bun = (globalThis as unknown as { Bun: BunNet }).Bun;

const [port, authPort] = process.argv.slice(2, 4).map(Number);
const protocol = process.argv[4] === "pop3" ? "pop3" : "imap";
const GREETING = Buffer.from(protocol === "imap" ? "* OK floor ready\r\n" : "+OK floor ready\r\n");

type AuthState = { buf: string; cb: ((head: string) => void) | null; keep: boolean };
const authPool: Sock<AuthState>[] = [];

function authConnect(): Promise<Sock<AuthState>> {
  const s = authPool.pop();
  if (s) return Promise.resolve(s);
  return Bun.connect<AuthState>({
    hostname: "127.0.0.1",
    port: authPort,
    socket: {
      data(sock, d) {
        sock.data.buf += d.toString("latin1");
        if (!sock.data.buf.includes("\r\n\r\n")) return;
        const head = sock.data.buf;
        sock.data.buf = "";
        sock.data.cb?.(head);
      },
      close(sock) {
        sock.data.keep = false;
      },
      error(sock) {
        sock.data.keep = false;
      },
    },
    data: { buf: "", cb: null, keep: true },
  });
}

async function auth(user: string, pass: string): Promise<number> {
  const s = await authConnect();
  const head = await new Promise<string>((res) => {
    s.data.cb = res;
    s.write(
      `GET /auth HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nAuth-Method: plain\r\n` +
        `Auth-User: ${user}\r\nAuth-Pass: ${pass}\r\nAuth-Protocol: ${protocol}\r\n` +
        `Auth-Login-Attempt: 1\r\nClient-IP: 127.0.0.1\r\n\r\n`,
    );
  });
  if (s.data.keep && /Connection: keep-alive/i.test(head)) authPool.push(s);
  else s.end();
  const m = /Auth-Port: (\d+)/i.exec(head);
  if (!m) throw new Error("auth refused");
  return Number(m[1]);
}

/** 0 reading the login, 1 logging in at the backend, 2 relaying. */
type Client = { state: number; buf: string; user: string; backend: Sock<unknown> | null; pend: Buffer[] };

async function login(c: Sock<Client>, tag: string, user: string, pass: string): Promise<void> {
  const st = c.data;
  let step = 0;
  let lbuf = "";
  const port = await auth(user, pass);
  await Bun.connect<unknown>({
    hostname: "127.0.0.1",
    port,
    socket: {
      // Set here, not from connect's promise: the backend's replies (and the client's next
      // command, relayed through st.backend) can come before that promise settles.
      open(b) {
        st.backend = b;
      },
      data(b, bd) {
        if (st.state === 2) {
          c.write(bd);
          return;
        }
        lbuf += bd.toString("latin1");
        if (!lbuf.endsWith("\r\n")) return;
        lbuf = "";
        step++;
        // IMAP: greeting → LOGIN; POP3: greeting → USER → PASS; the last reply goes to the client.
        if (step === 1) {
          b.write(protocol === "imap" ? `${tag} LOGIN ${user} ${pass}\r\n` : `USER ${user}\r\n`);
        } else if (step === 2 && protocol === "pop3") b.write(`PASS ${pass}\r\n`);
        else {
          c.write(bd);
          st.state = 2;
          for (const p of st.pend) b.write(p);
        }
      },
      close() {
        c.end();
      },
      error() {
        c.end();
      },
    },
  });
}

Bun.listen<Client>({
  hostname: "127.0.0.1",
  port,
  socket: {
    open(c) {
      c.data = { state: 0, buf: "", user: "", backend: null, pend: [] };
      c.setNoDelay?.(true);
      c.write(GREETING);
    },
    data(c, d) {
      const st = c.data;
      if (st.state === 2) {
        st.backend!.write(d);
        return;
      }
      if (st.state === 1) {
        st.pend.push(d);
        return;
      }
      st.buf += d.toString("latin1");
      if (!st.buf.endsWith("\r\n")) return;
      const words = st.buf.trim().split(" ");
      st.buf = "";
      if (protocol === "pop3" && !st.user) {
        st.user = words[1];
        c.write("+OK\r\n");
        return;
      }
      st.state = 1;
      const [tag, user, pass] = protocol === "imap"
        ? [words[0], words[2], words[3]]
        : ["", st.user, words[1]];
      login(c, tag, user, pass).catch(() => c.end());
    },
    close(c) {
      c.data.backend?.end();
    },
    error() {},
  },
});
console.log(`floor bun ${protocol} on ${port}`);
