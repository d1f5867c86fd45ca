/**
 * The workloads of issue #8, with the reference figures measured on a machine of our kind
 * (ratios matter, not absolutes).
 * @module
 */

import { FETCH_SEQ, SMTP_RCPT } from "./lab.ts";
import type { Service } from "./targets.ts";

/** How a workload's result is expressed. */
export type Unit = "logins/s" | "msgs/s" | "MB/s";

/** One workload. */
export interface Workload {
  name: string;
  title: string;
  service: Service;
  /** The generator's `--op`. */
  op: "imap_login" | "pop3_login" | "smtp_send" | "imap_fetch";
  clients: number;
  unit: Unit;
  /** Extra generator arguments. */
  args: string[];
  /**
   * The generator: loadgen.ts (Deno, the default), or tls_loadgen.py (Python's OpenSSL client,
   * which can offer each connection's TLS session again; Deno's clients cannot, see there).
   */
  generator?: "python-tls";
  /** Reference figures (direct, nginx, nginx-64k) from the issue, where given. */
  reference: { direct?: number; nginx?: number; "nginx-64k"?: number };
}

/** All workloads, in table order. */
export const WORKLOADS: readonly Workload[] = [
  {
    name: "imap_login",
    title: "IMAP connect+LOGIN+LOGOUT, 50 clients",
    service: "imap",
    op: "imap_login",
    clients: 50,
    unit: "logins/s",
    args: [],
    reference: { direct: 2275, nginx: 1060 },
  },
  {
    name: "imaps_login",
    title: "IMAPS (implicit TLS) logins, 50 clients",
    service: "imaps",
    op: "imap_login",
    clients: 50,
    unit: "logins/s",
    args: [],
    reference: { direct: 545, nginx: 426 },
  },
  {
    // The same logins from the Python generator (which can resume, Deno's clients cannot):
    // the full-handshake baseline of the resumed workload below.
    name: "imaps_login_full",
    title: "IMAPS logins, Python (OpenSSL) client, full handshakes, 50 clients",
    service: "imaps",
    op: "imap_login",
    clients: 50,
    unit: "logins/s",
    args: [],
    generator: "python-tls",
    reference: {},
  },
  {
    // Each client offers the session of its previous connection (tickets, nginx's default),
    // as phones and desktop clients reconnecting all day do; not resuming is an error.
    name: "imaps_login_resumed",
    title: "IMAPS logins, Python (OpenSSL) client, resumed sessions, 50 clients",
    service: "imaps",
    op: "imap_login",
    clients: 50,
    unit: "logins/s",
    args: ["--resume"],
    generator: "python-tls",
    reference: {},
  },
  {
    name: "pop3_login",
    title: "POP3 USER/PASS/QUIT, 50 clients",
    service: "pop3",
    op: "pop3_login",
    clients: 50,
    unit: "logins/s",
    args: [],
    reference: { direct: 1980, nginx: 1046 },
  },
  {
    name: "smtp_send",
    title: "SMTP EHLO+AUTH+10 KB DATA, 20 clients",
    service: "smtp",
    op: "smtp_send",
    clients: 20,
    unit: "msgs/s",
    args: ["--size", "10240", "--rcpt", SMTP_RCPT],
    reference: { direct: 1222, nginx: 397, "nginx-64k": 661 },
  },
  {
    name: "fetch_1m_1c",
    title: "IMAP FETCH 1 MB body, 1 client",
    service: "imap",
    op: "imap_fetch",
    clients: 1,
    unit: "MB/s",
    args: ["--seq", String(FETCH_SEQ["1m"])],
    reference: { direct: 1120, nginx: 45 },
  },
  {
    name: "fetch_10m_1c",
    title: "IMAP FETCH 10 MB body, 1 client",
    service: "imap",
    op: "imap_fetch",
    clients: 1,
    unit: "MB/s",
    args: ["--seq", String(FETCH_SEQ["10m"])],
    reference: { direct: 1267, nginx: 299, "nginx-64k": 1109 },
  },
  {
    name: "fetch_10m_8c",
    title: "IMAP FETCH 10 MB body, 8 clients",
    service: "imap",
    op: "imap_fetch",
    clients: 8,
    unit: "MB/s",
    args: ["--seq", String(FETCH_SEQ["10m"])],
    reference: { direct: 1970, nginx: 1179, "nginx-64k": 1518 },
  },
];

/** CPU cost denominator of a unit: per 1 000 logins/messages, or per GB relayed. */
export function costUnit(unit: Unit): string {
  return unit === "MB/s" ? "CPU s/GB" : "CPU s/1000";
}
