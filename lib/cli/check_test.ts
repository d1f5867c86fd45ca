import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOk } from "../config/testing.ts";
import type { BusyPort } from "../config/ports.ts";
import { type CheckProbes, getOverUnixSocket, runCheck, type RunningProxy } from "./check.ts";

const CONFIG = `auth_http = "http://127.0.0.1:9000/auth"
[admin]
listen = "127.0.0.1:8080"
[[server]]
listen = ["127.0.0.1:1143", "127.0.0.1:1144"]
protocol = "imap"
`;

function inUse(address: string, admin = false): BusyPort {
  return { address, code: "EADDRINUSE", problem: "address already in use", admin };
}

async function check(busy: BusyPort[], running: RunningProxy | null, text = CONFIG) {
  const out: string[] = [];
  const err: string[] = [];
  let asked = 0;
  const probes: CheckProbes = {
    busyPorts: () => Promise.resolve(busy),
    runningProxy: () => {
      asked++;
      return Promise.resolve(running);
    },
  };
  const code = await runCheck(loadOk(text), { out: (t) => out.push(t), err: (t) => err.push(t) }, probes);
  return { code, out: out.join(""), err: err.join(""), asked };
}

Deno.test("--check: ports held by the running mailproxy with this config are notes, exit 0", async () => {
  const r = await check(
    [inUse("127.0.0.1:1143"), inUse("127.0.0.1:1144"), inUse("127.0.0.1:8080", true)],
    { pid: 42, listeners: new Set(["127.0.0.1:1143", "127.0.0.1:1144"]) },
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /note: listen "127\.0\.0\.1:1143": held by the running mailproxy \(pid 42\)/);
  assert.match(r.out, /note: listen "127\.0\.0\.1:8080": held by the running mailproxy/);
  assert.ok(r.out.endsWith("test is successful\n"));
});

Deno.test("--check: a port the running mailproxy does not hold is another program's: exit 1", async () => {
  const r = await check(
    [inUse("127.0.0.1:1143"), inUse("127.0.0.1:1144"), inUse("127.0.0.1:8080", true)],
    { pid: 42, listeners: new Set(["127.0.0.1:1143"]) },
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /listen "127\.0\.0\.1:1144": address already in use by another program/);
  assert.doesNotMatch(r.err, /1143/);
});

Deno.test("--check: admin port free means no mailproxy runs with this config: a busy port fails", async () => {
  const r = await check([inUse("127.0.0.1:1143")], null);
  assert.equal(r.code, 1);
  assert.equal(r.asked, 0, "nobody to ask when the admin port is free");
  assert.match(r.err, /1143": address already in use by another program/);
});

Deno.test("--check: busy ports and an admin API that does not confirm: warnings, exit 0", async () => {
  const r = await check([inUse("127.0.0.1:1143"), inUse("127.0.0.1:8080", true)], null);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /warning: listen "127\.0\.0\.1:1143": address already in use \(by a running mailproxy/);
});

Deno.test("--check: permission errors fail whatever runs", async () => {
  const r = await check(
    [{ address: "127.0.0.1:1143", code: "EACCES", problem: "permission denied", admin: false }],
    null,
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /listen "127\.0\.0\.1:1143": permission denied/);
});

Deno.test("--check: a running mailproxy is also asked over a UNIX-socket admin API", async () => {
  const unixAdmin = CONFIG.replace('listen = "127.0.0.1:8080"', 'listen = "unix:/run/mailproxy-admin.sock"');
  const r = await check(
    [inUse("127.0.0.1:1143")],
    { pid: 7, listeners: new Set(["127.0.0.1:1143"]) },
    unixAdmin,
  );
  assert.equal(r.code, 0, r.err);
  assert.equal(r.asked, 1);
  assert.match(r.out, /note: listen "127\.0\.0\.1:1143": held by the running mailproxy \(pid 7\)/);
});

Deno.test("getOverUnixSocket: GET over a UNIX socket with headers; non-200 rejects", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-check-"));
  const path = join(dir, "admin.sock");
  const server = createServer((req, res) => {
    const ok = req.headers.authorization === "Bearer t" && req.url === "/status";
    res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
    res.end(ok ? JSON.stringify({ config_file: "/x.toml", listeners: [] }) : "{}");
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    const body = await getOverUnixSocket(path, "/status", { authorization: "Bearer t" }, 1000);
    assert.deepEqual(JSON.parse(body), { config_file: "/x.toml", listeners: [] });
    await assert.rejects(getOverUnixSocket(path, "/status", {}, 1000), /no 200 reply/);
    await assert.rejects(getOverUnixSocket(join(dir, "none.sock"), "/status", {}, 1000));
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
