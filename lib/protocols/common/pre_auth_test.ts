import assert from "node:assert/strict";
import { toBinary } from "../../util/bytes.ts";
import { authFailedStep, authFailureText, authMethodEnabled, ErrorCounter } from "./pre_auth.ts";

Deno.test("pre-auth: ErrorCounter reaches max_errors on the n-th error", () => {
  const c = new ErrorCounter(3);
  assert.deepEqual([c.count(), c.count(), c.count()], [false, false, true]);
  assert.equal(new ErrorCounter(1).count(), true);
});

Deno.test("pre-auth: the auth failure text is one line of bytes", () => {
  assert.equal(authFailureText("Invalid login or password"), "Invalid login or password");
  assert.equal(authFailureText("two\r\nlines\nhere"), "two lines here");
  assert.equal(authFailureText("\xe4 (binary already)"), "\xe4 (binary already)");
  assert.equal(authFailureText("Grüße €"), toBinary(new TextEncoder().encode("Grüße €")));
});

Deno.test("pre-auth: a refused login closes unless Auth-Wait is set", () => {
  const closing = authFailedStep("-ERR no\r\n", { status: "fail", message: "no", wait: 0 });
  assert.equal(closing.kind, "close");
  assert.equal(closing.kind === "close" && closing.reason, "client login failed");
  const staying = authFailedStep("-ERR no\r\n", { status: "fail", message: "no", wait: 1 });
  assert.equal(staying.kind, "send");
  assert.equal(toBinary(staying.kind === "send" ? staying.data : new Uint8Array(0)), "-ERR no\r\n");
});

Deno.test("pre-auth: auth methods are matched case-insensitively", () => {
  assert.equal(authMethodEnabled(["plain", "CRAM-MD5"], "cram-md5"), true);
  assert.equal(authMethodEnabled(["plain"], "apop"), false);
});
