/**
 * Syslog to a local datagram socket (`syslog:server=unix:/dev/log`): RFC 5424 messages,
 * one per datagram, as journald and rsyslog's imuxsock read them.
 *
 * Why not @logtape/syslog: it speaks UDP and TCP only, and neither runtime's socket API
 * that it uses reaches a UNIX datagram socket (node:dgram has no `unix_dgram`). So:
 * - Deno: `Deno.listenDatagram({ transport: "unixpacket" })` (a SOCK_DGRAM UNIX socket,
 *   `--unstable-net`, which deno.json enables) bound to a private temporary path, sending
 *   to the log socket;
 * - Bun: `socket(AF_UNIX, SOCK_DGRAM)` + `sendto()` from libc through `bun:ffi` (Bun has
 *   no UNIX datagram API), non-blocking: a full socket drops the line instead of stalling.
 * The frame is the same as @logtape/syslog's: `<PRI>1 TIME HOST APP PID - - MSG`.
 * @module
 */

import type { LogRecord, Sink } from "@logtape/logtape";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { SyslogTarget } from "../config/mod.ts";

/** RFC 5424 severities of LogTape's levels. */
const SEVERITY: Record<string, number> = { fatal: 2, error: 3, warning: 4, info: 6, debug: 7, trace: 7 };

/** The RFC 5424 frame of one record. */
export function rfc5424(record: LogRecord, target: SyslogTarget, message: string, host: string): string {
  const pri = target.facility * 8 + (SEVERITY[record.level] ?? 6);
  const time = new Date(record.timestamp).toISOString();
  return `<${pri}>1 ${time} ${
    target.nohostname ? "-" : host || "-"
  } ${target.tag} ${process.pid} - - ${message}`;
}

/** Sends datagrams to one UNIX socket path. */
interface DatagramSender {
  send(bytes: Uint8Array): void;
  close(): void;
}

/** The output (see lib/log/outputs.ts) for a UNIX datagram syslog target. */
export function openUnixSyslog(
  target: SyslogTarget,
  body: (record: LogRecord) => string,
  complain: (text: string) => void,
): { sink: Sink; immediate: true; flush(): void; reopen(): void; close(): Promise<void> } {
  const host = hostname();
  const encoder = new TextEncoder();
  let failed = false;
  const report = (err: unknown) => {
    if (failed) return;
    failed = true;
    complain(
      `syslog unix:${target.path}: ${err instanceof Error ? err.message : String(err)}; lines are dropped`,
    );
  };
  const sender = openSender(target.path, report, () => (failed = false));
  return {
    sink: (record) => sender.send(encoder.encode(rfc5424(record, target, body(record).trimStart(), host))),
    immediate: true,
    flush: () => {},
    reopen: () => {},
    close: () => Promise.resolve(sender.close()),
  };
}

function openSender(path: string, fail: (err: unknown) => void, ok: () => void): DatagramSender {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno && typeof deno.listenDatagram === "function") return denoSender(deno, path, fail, ok);
  if ((globalThis as { Bun?: unknown }).Bun) return bunSender(path, fail, ok);
  throw new Error("syslog to a UNIX socket needs Deno (with --unstable-net) or Bun");
}

function denoSender(deno: typeof Deno, path: string, fail: (err: unknown) => void, ok: () => void) {
  // A datagram socket needs an address of its own; a private directory keeps it ours, and the
  // path is removed at once (the bound socket keeps working for sending).
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-syslog-"));
  const conn = deno.listenDatagram({ transport: "unixpacket", path: join(dir, "s") });
  rmSync(dir, { recursive: true, force: true });
  const to: Deno.UnixAddr = { transport: "unixpacket", path };
  return {
    send(bytes: Uint8Array) {
      conn.send(bytes, to).then(ok, fail);
    },
    close() {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    },
  };
}

interface BunFfi {
  dlopen(
    lib: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number | bigint>; close(): void };
  ptr(view: Uint8Array): number;
}

function bunSender(path: string, fail: (err: unknown) => void, ok: () => void): DatagramSender {
  // Bun's `import.meta.require` keeps "bun:ffi" out of Deno's module graph (this runs only under Bun).
  const ffi = (import.meta as unknown as { require(id: string): BunFfi }).require("bun:ffi");
  const libc = ffi.dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
  });
  const AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0o2000000, MSG_DONTWAIT = 0x40;
  const fd = Number(libc.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd < 0) throw new Error("cannot create a UNIX datagram socket");
  // struct sockaddr_un: sa_family_t (2 bytes, little endian on Linux) + sun_path[108].
  const name = new TextEncoder().encode(path);
  if (name.length >= 108) throw new Error(`UNIX socket path too long: ${path}`);
  const addr = new Uint8Array(110);
  addr[0] = AF_UNIX;
  addr.set(name, 2);
  const addrLen = 2 + name.length + 1;
  return {
    send(bytes: Uint8Array) {
      const sent = Number(
        libc.symbols.sendto(fd, ffi.ptr(bytes), bytes.length, MSG_DONTWAIT, ffi.ptr(addr), addrLen),
      );
      if (sent < 0) fail(new Error("sendto failed (no receiver, or its queue is full)"));
      else ok();
    },
    close() {
      libc.symbols.close(fd);
      libc.close();
    },
  };
}
