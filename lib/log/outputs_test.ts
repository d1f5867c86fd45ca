import assert from "node:assert/strict";
import { getLogger, resetSync } from "@logtape/logtape";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchWriter } from "./batch_writer.ts";
import { LogOutputs, type LogSettings, textLine } from "./outputs.ts";
import { markImmediate } from "./output.ts";
import { type ErrorLogTarget, parseErrorLog } from "../config/mod.ts";

function target(text: string, dir: string): ErrorLogTarget {
  const r = parseErrorLog(text, dir);
  if (!r.ok) throw new Error(r.error);
  return r.target;
}

Deno.test("log outputs: per-entry levels, a server's own error_log overrides the mail level", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-outputs-"));
  const stderr: string[] = [];
  const outputs = new LogOutputs(new BatchWriter({ deliver: (t) => stderr.push(t) }));
  const mail = [target("mail.log info", dir), target("stderr error", dir)];
  const settings: LogSettings = {
    log: { level: "info", format: "text" },
    error_log: mail,
    servers: [{ index: 0, error_log: mail }, { index: 1, error_log: [target("s1.log debug", dir)] }],
  };
  try {
    outputs.configure(settings);
    getLogger(["mailproxy", "main"]).info("process line");
    getLogger(["mailproxy", "main"]).debug("too verbose for mail.log");
    getLogger(["mailproxy", "session", "0"]).with({ session: "s0" }).info("server 0 line");
    getLogger(["mailproxy", "session", "1"]).with({ session: "s1" }).debug("server 1 line");
    getLogger(["mailproxy", "main"]).error("an error");
    await outputs.close();
    const mailLog = readFileSync(join(dir, "mail.log"), "utf8");
    const s1Log = readFileSync(join(dir, "s1.log"), "utf8");
    assert.match(
      mailLog,
      /^\S+Z info {4}process line\n\S+Z info {4}\*s0 server 0 line\n\S+Z error {3}an error\n$/,
    );
    assert.match(s1Log, /^\S+Z debug {3}\*s1 server 1 line\n$/, "the server's own file only");
    assert.deepEqual(stderr.join("").split("\n").filter(Boolean).map((l) => l.slice(25)), [
      "error   an error",
    ]);
  } finally {
    resetSync();
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("log outputs: reopen() writes on to a new file at the path; the old one keeps what came before", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-outputs-"));
  const outputs = new LogOutputs(new BatchWriter({ deliver: () => {} }));
  const file = join(dir, "mail.log");
  try {
    outputs.configure({
      log: { level: "info", format: "json" },
      error_log: [target(`${file} info`, dir)],
      servers: [],
    });
    getLogger(["mailproxy", "main"]).info("before");
    outputs.flush();
    renameSync(file, `${file}.1`);
    outputs.reopen();
    getLogger(["mailproxy", "main"]).info("after");
    await outputs.close();
    assert.deepEqual(readFileSync(`${file}.1`, "utf8").trim().split("\n").map((l) => JSON.parse(l).message), [
      "before",
    ]);
    assert.deepEqual(readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l).message), [
      "after",
    ]);
  } finally {
    resetSync();
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("error_log targets: nginx syntax, facilities by nginx's codes, defaults", () => {
  const t = target("syslog:server=[::1]:1514,transport=tcp,facility=cron,tag=mx_1,nohostname", "/");
  assert.ok(t.type === "syslog");
  assert.deepEqual([t.transport, t.host, t.port, t.facility, t.tag, t.nohostname, t.level], [
    "tcp",
    "::1",
    1514,
    15,
    "mx_1",
    true,
    "error",
  ]);
  const d = target("syslog:server=127.0.0.1", "/");
  assert.ok(d.type === "syslog");
  assert.deepEqual([d.transport, d.port, d.facility, d.tag], ["udp", 514, 23, "mailproxy"]);
  assert.deepEqual(target("logs/m.log notice", "/etc/mailproxy"), {
    raw: "logs/m.log notice",
    level: "info",
    type: "file",
    path: "/etc/mailproxy/logs/m.log",
  });
  for (
    const [bad, why] of [
      ["a b c", /expected "TARGET \[LEVEL\]"/],
      ["syslog:server=unix:/dev/log,transport=tcp", /datagram socket/],
      ["syslog:server=1.2.3.4,tag=has-dash", /"tag" must be/],
      ["syslog:server=1.2.3.4,facility=local9", /unknown syslog facility/],
      ["syslog:server=1.2.3.4:70000", /invalid syslog port/],
      ["syslog:server=1.2.3.4,bogus", /unknown syslog parameter/],
    ] as const
  ) {
    const r = parseErrorLog(bad, "/");
    assert.ok(!r.ok, bad);
    assert.match(r.error, why);
  }
});

Deno.test("textLine: the timestamp reused within a millisecond is still each record's own", () => {
  const record = (timestamp: number) => ({
    category: ["mailproxy"],
    level: "info" as const,
    message: ["hello"],
    rawMessage: "hello",
    timestamp,
    properties: { session: "s1" },
  });
  const t = Date.UTC(2026, 11, 4, 18, 0, 0, 5);
  for (const ts of [t, t, t + 1, t + 1000, t]) {
    assert.equal(textLine(record(ts)), `${new Date(ts).toISOString()} info    *s1 hello\n`);
  }
});

Deno.test("log outputs: sinks that format at once are marked immediate for LogTape, records intact", () => {
  const lines: string[] = [];
  const outputs = new LogOutputs(new BatchWriter({ deliver: (t) => lines.push(t) }));
  try {
    outputs.configure({ log: { level: "info", format: "text" }, error_log: null, servers: [] });
    const props = { who: "alice" };
    getLogger(["mailproxy", "session", "0"]).with({ session: "s9" }).info("login {who}", props);
    props.who = "changed after the call";
    outputs.flush();
    assert.ok(lines.join("").endsWith(" info    *s9 login alice\n"), lines.join(""));
    const immediate = Symbol.for("LogTape.sinkSnapshotPolicy.immediate");
    const sink = markImmediate(() => {});
    assert.equal((sink as unknown as Record<symbol, unknown>)[immediate], true);
  } finally {
    resetSync();
  }
});
