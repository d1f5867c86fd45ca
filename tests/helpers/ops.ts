/**
 * Shared pieces of the operations tests (admin API, reload, drain, status page): the
 * lab, an authenticated admin client, IMAP logins through the proxy, and polling.
 * @module
 */

import { type AuthService, startAuthService } from "../lab/auth_service.ts";
import { type Dovecot, startDovecot } from "../lab/dovecot.ts";
import { LineClient } from "./line_client.ts";
import type { ProxyProcess } from "./proxy_process.ts";

/** The admin token the ops tests configure. */
export const ADMIN_TOKEN = "ops-test-token";

/** Dovecot plus the auth_http service, shared by the tests of one file. */
export interface OpsLab {
  dovecot: Dovecot;
  auth: AuthService;
  stop(): Promise<void>;
}

/** Starts Dovecot (alice has one message) and the auth service pointing at it. */
export async function startOpsLab(): Promise<OpsLab> {
  const dovecot = await startDovecot();
  dovecot.addMessage(
    "alice",
    "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: ops test\r\n\r\nHello.\r\n",
  );
  const auth = await startAuthService({ backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } } });
  return {
    dovecot,
    auth,
    async stop() {
      await auth.stop();
      await dovecot.stop();
    },
  };
}

/** Calls the admin API with the test token; returns status and parsed JSON (or text). */
export async function api(
  proxy: ProxyProcess,
  path: string,
  method = "GET",
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${proxy.adminUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (metrics, HTML): keep the text.
  }
  return { status: res.status, body };
}

/** A session as `/sessions` lists it (the fields the tests look at). */
export interface ListedSession {
  id: string;
  user: string | null;
  backend: string | null;
  state: string;
  protocol: string;
  client: string;
  bytes: { upstream: number; downstream: number };
}

/** The live sessions, optionally filtered by a query string. */
export async function sessions(proxy: ProxyProcess, query = ""): Promise<ListedSession[]> {
  const r = await api(proxy, `/sessions${query}`);
  if (r.status !== 200) throw new Error(`/sessions: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.sessions;
}

/** Polls `check` every 50 ms until it returns true or `ms` pass. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await check();
}

/** Opens an IMAP connection through the proxy and logs in; the session is then relayed. */
export async function imapLogin(port: number, user = "alice", pass = "alicepass"): Promise<LineClient> {
  const c = await LineClient.open(port);
  await c.readUntilLine("* OK");
  c.send(`a1 LOGIN ${user} ${pass}\r\n`);
  const reply = await c.readUntilLine("a1 ");
  if (!/^a1 OK/m.test(reply)) {
    c.close();
    throw new Error(`login of ${user} failed: ${reply}`);
  }
  return c;
}

/** Sends one tagged command and returns everything up to its tagged reply. */
export function command(c: LineClient, tag: string, text: string): Promise<string> {
  c.send(`${tag} ${text}\r\n`);
  return c.readUntilLine(`${tag} `);
}
