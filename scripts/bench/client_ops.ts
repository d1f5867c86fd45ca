/**
 * The client side of each benchmark workload: one operation per call, written against a
 * {@link Wire}. Kept apart from the generator's timing loop so each protocol dialogue reads as
 * the exchange it is.
 * @module
 */

import { Buffer } from "node:buffer";
import { expect, Wire } from "./wire.ts";

/** Where and how a generator connects. */
export interface Dial {
  host: string;
  port: number;
  /** PEM of the CA that signed the server certificate: implicit TLS when set. */
  caPem?: string;
}

/** Credentials of generator client `i` (users bench0 … benchN-1, one password). */
export interface Login {
  user: string;
  pass: string;
}

/** Opens a connection (TCP or implicit TLS) with Nagle off. */
export async function dial(d: Dial, bufferSize?: number): Promise<Wire> {
  const tcp = await Deno.connect({ hostname: d.host, port: d.port });
  // Also under TLS: Deno.connectTls leaves Nagle on, and the client's LOGIN then waited for
  // the server's delayed ACK (~40 ms per login for every target, capping the rates).
  tcp.setNoDelay(true);
  const conn = d.caPem ? await Deno.startTls(tcp, { hostname: d.host, caCerts: [d.caPem] }) : tcp;
  return new Wire(conn, bufferSize);
}

/** connect, greeting, LOGIN, LOGOUT, close: one IMAP login. */
export async function imapLogin(d: Dial, login: Login): Promise<void> {
  const w = await dial(d);
  try {
    expect(await w.line(), "* OK", "greeting");
    await w.send(`a LOGIN ${login.user} ${login.pass}\r\n`);
    expect(await w.tagged("a"), "a OK", "LOGIN");
    await w.send("b LOGOUT\r\n");
    expect(await w.tagged("b"), "b OK", "LOGOUT");
  } finally {
    w.close();
  }
}

/** connect, greeting, USER, PASS, QUIT, close: one POP3 login. */
export async function pop3Login(d: Dial, login: Login): Promise<void> {
  const w = await dial(d);
  try {
    expect(await w.line(), "+OK", "greeting");
    await w.send(`USER ${login.user}\r\n`);
    expect(await w.line(), "+OK", "USER");
    await w.send(`PASS ${login.pass}\r\n`);
    expect(await w.line(), "+OK", "PASS");
    await w.send("QUIT\r\n");
    expect(await w.line(), "+OK", "QUIT");
  } finally {
    w.close();
  }
}

/** A message of about `size` bytes: headers and 76-character lines (no dot-stuffing needed). */
export function smtpBody(size: number, from: string, to: string): Uint8Array {
  const lines = [`From: <${from}>`, `To: <${to}>`, "Subject: mailproxy benchmark", ""];
  let length = lines.join("\r\n").length + 2;
  const filler = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789abcd";
  while (length < size) {
    lines.push(filler);
    length += filler.length + 2;
  }
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n.\r\n");
}

/** connect, EHLO, AUTH PLAIN, one message through DATA, QUIT, close. */
export async function smtpSend(d: Dial, login: Login, rcpt: string, body: Uint8Array): Promise<void> {
  const w = await dial(d);
  try {
    expect(await w.reply(), "220 ", "greeting");
    await w.send("EHLO bench.test\r\n");
    expect(await w.reply(), "250 ", "EHLO");
    const plain = Buffer.from(`\0${login.user}\0${login.pass}`).toString("base64");
    await w.send(`AUTH PLAIN ${plain}\r\n`);
    expect(await w.reply(), "235 ", "AUTH");
    await w.send(`MAIL FROM:<${login.user}@bench.test>\r\n`);
    expect(await w.reply(), "250 ", "MAIL");
    await w.send(`RCPT TO:<${rcpt}>\r\n`);
    expect(await w.reply(), "250 ", "RCPT");
    await w.send("DATA\r\n");
    expect(await w.reply(), "354 ", "DATA");
    await w.send(body);
    expect(await w.reply(), "250 ", "end of DATA");
    await w.send("QUIT\r\n");
    expect(await w.reply(), "221 ", "QUIT");
  } finally {
    w.close();
  }
}

/** Logs in and opens INBOX read-only: the start of a FETCH client or an idle session. */
export async function imapSession(d: Dial, login: Login, bufferSize?: number): Promise<Wire> {
  const w = await dial(d, bufferSize);
  try {
    expect(await w.line(), "* OK", "greeting");
    await w.send(`a LOGIN ${login.user} ${login.pass}\r\n`);
    expect(await w.tagged("a"), "a OK", "LOGIN");
    await w.send("s EXAMINE INBOX\r\n");
    expect(await w.tagged("s"), "s OK", "EXAMINE");
    return w;
  } catch (err) {
    w.close();
    throw err;
  }
}

/** One `FETCH seq BODY.PEEK[]` on a logged-in session; the literal is read and dropped. */
export async function imapFetch(w: Wire, seq: number): Promise<void> {
  await w.send(`f FETCH ${seq} BODY.PEEK[]\r\n`);
  expect(await w.tagged("f"), "f OK", "FETCH");
}
