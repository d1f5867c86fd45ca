import assert from "node:assert/strict";
import { protocolRecord } from "../protocols/mod.ts";
import type { Conn } from "../transport/types.ts";
import { goodbyeLine, sayGoodbye, SHUTDOWN_REASON } from "./goodbye.ts";
import { sendLastLine } from "./last_line.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const lines = (p: "imap" | "pop3" | "smtp") => protocolRecord(p).lines;

Deno.test("goodbye: one line per protocol, shutdown or admin kick", () => {
  assert.equal(goodbyeLine(lines("imap"), SHUTDOWN_REASON), "* BYE Server shutting down\r\n");
  assert.equal(goodbyeLine(lines("imap"), "killed by admin"), "* BYE Session closed by administrator\r\n");
  assert.equal(goodbyeLine(lines("pop3"), SHUTDOWN_REASON), "-ERR Server shutting down\r\n");
  assert.match(
    goodbyeLine(lines("smtp"), SHUTDOWN_REASON),
    /^421 4\.3\.2 Service shutting down[^\r\n]*\r\n$/,
  );
  assert.match(goodbyeLine(lines("smtp"), "killed by admin"), /^421 4\.3\.2 [^\r\n]*\r\n$/);
});

function fakeConn(write: (d: Uint8Array) => Promise<void>) {
  const state = { closed: 0, written: [] as string[] };
  const conn = {
    write: (d: Uint8Array) => {
      state.written.push(text(d));
      return write(d);
    },
    close: () => void state.closed++,
  } as unknown as Conn;
  return { conn, state };
}

Deno.test("goodbye: written, then the connection is closed", async () => {
  const { conn, state } = fakeConn(() => Promise.resolve());
  await sayGoodbye(conn, lines("imap"), SHUTDOWN_REASON);
  assert.deepEqual(state.written, ["* BYE Server shutting down\r\n"]);
  assert.equal(state.closed, 1);
});

Deno.test("last line: a client that does not read cannot hold the close; errors are swallowed", async () => {
  const stuck = fakeConn(() => new Promise(() => {}));
  await sendLastLine(stuck.conn, "-ERR bye\r\n", 5);
  assert.equal(stuck.state.closed, 1);
  const broken = fakeConn(() => Promise.reject(new Error("connection reset")));
  await sayGoodbye(broken.conn, lines("smtp"), SHUTDOWN_REASON);
  assert.equal(broken.state.closed, 1);
});
