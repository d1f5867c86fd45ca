import assert from "node:assert/strict";
import { sessionView } from "./sessions.ts";
import type { SessionInfo } from "../session/registry.ts";

const INFO: SessionInfo = {
  id: "s1",
  protocol: "imap",
  server: 0,
  client: "192.0.2.7:40000",
  listen: "127.0.0.1:993",
  state: "pre-auth",
  startedAt: 0,
  bytesUp: 0,
  bytesDown: 0,
};

Deno.test("session view: tls comes from the session's facts, null in clear", () => {
  assert.equal(sessionView(INFO, 0).tls, null);
  const tls = { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", verify: "SUCCESS" };
  assert.deepEqual(sessionView({ ...INFO, tls }, 0).tls, tls);
});
