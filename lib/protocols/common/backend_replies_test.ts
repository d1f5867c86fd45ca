import assert from "node:assert/strict";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import type { BackendStep } from "../types.ts";
import { BackendReplies, startsWithText } from "./backend_replies.ts";

const INTERNAL = "-ERR internal server error\r\n";

function replies(proxyBuffer = 4096, passErrorMessage = false) {
  return new BackendReplies({ proxyBuffer, passErrorMessage, internalError: INTERNAL, secret: "s3cret" });
}

const read = (r: BackendReplies, text: string) => {
  const out = r.read(fromBinary(text));
  return out instanceof Uint8Array ? toBinary(out) : out;
};

const failOf = (step: unknown) => {
  const s = step as BackendStep;
  assert.equal(s.kind, "fail");
  return s.kind === "fail" ? { data: toBinary(s.toClient), log: s.log } : { data: "", log: "" };
};

Deno.test("backend replies: judged at 4+ bytes ending in CRLF", () => {
  const r = replies();
  assert.equal(read(r, "+O"), null);
  assert.equal(read(r, "\r\n"), "+O\r\n", "4 bytes");
  r.send("NEXT\r\n");
  assert.equal(read(r, "+\r\n"), null, "3 bytes are not enough");
  assert.equal(read(r, "x\r\n"), "+\r\nx\r\n");
});

Deno.test("backend replies: send drops the judged reply; done hands over everything", () => {
  const r = replies();
  assert.equal(read(r, "+OK a\r\n+OK b\r\n"), "+OK a\r\n+OK b\r\n");
  const sent = r.send("USER x\r\n");
  assert.equal(sent.kind === "send" && toBinary(sent.data), "USER x\r\n");
  assert.equal(read(r, "+OK c\r\n"), "+OK c\r\n", "the stray +OK b was dropped");
  const done = r.done();
  assert.equal(done.kind === "done" && toBinary(done.toClient), "+OK c\r\n");
  assert.equal(r.finished, true);
  assert.equal(read(r, "+OK\r\n"), null);
});

Deno.test("backend replies: at most proxy_buffer bytes; the rest waits for the next reply", () => {
  const r = replies(10);
  assert.equal(read(r, "+OK\r\n+OK\r\n+OK more\r\n"), "+OK\r\n+OK\r\n");
  r.send("PASS x\r\n");
  assert.equal(read(r, ""), "+OK more\r\n", "the bytes beyond the buffer are the next reply");
  const q = replies(8);
  assert.deepEqual(failOf(read(q, "+OK\r\n+OK more\r\n")), {
    data: INTERNAL,
    log: 'upstream sent too long response line: "+OK"',
  });
  assert.equal(read(q, "+OK\r\n"), null, "finished");
});

Deno.test("backend replies: invalid replies, with and without proxy_pass_error_message", () => {
  assert.deepEqual(failOf(replies().invalid(fromBinary("-ERR s3cret is wrong\r\nnext\r\n"), "password")), {
    data: INTERNAL,
    log: 'upstream sent invalid response to password: "-ERR *** is wrong"',
  });
  const on = replies(4096, true);
  assert.equal(failOf(on.invalid(fromBinary("-ERR no\r\n"), "greeting")).data, "-ERR no\r\n");
  assert.equal(on.finished, true);
});

Deno.test("backend replies: the log excerpt is bounded", () => {
  const long = "-ERR " + "x".repeat(500) + "\r\n";
  const { log } = failOf(replies().invalid(fromBinary(long), "greeting"));
  assert.ok(log.endsWith('x..."'), log.slice(-20));
  assert.ok(log.length < 300);
});

Deno.test("backend replies: startsWithText", () => {
  assert.equal(startsWithText(fromBinary("a1 OK"), 3, "OK"), true);
  assert.equal(startsWithText(fromBinary("a1 O"), 3, "OK"), false);
  assert.equal(startsWithText(fromBinary("+OK"), 0, "+OK"), true);
});
