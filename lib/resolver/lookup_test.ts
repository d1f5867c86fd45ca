import assert from "node:assert/strict";
import { ClientHostLookup } from "./lookup.ts";

Deno.test("ClientHostLookup: resolves a resolver list once, until cleared", async () => {
  const lookup = new ClientHostLookup();
  const first = lookup.servers(["127.0.0.1:5353"]);
  assert.equal(lookup.servers(["127.0.0.1:5353"]), first, "the same list is resolved once");
  assert.deepEqual((await first).map((s) => [s.host, s.port]), [["127.0.0.1", 5353]]);
  assert.equal(lookup.size, 1);
  lookup.clear();
  assert.equal(lookup.size, 0);
  assert.notEqual(lookup.servers(["127.0.0.1:5353"]), first, "after clear() it is resolved again");
});

Deno.test("ClientHostLookup: a list that cannot be resolved gives [TEMPUNAVAIL], never a rejection", async () => {
  const lookup = new ClientHostLookup();
  const found = await lookup.lookup("127.0.0.1", ["not an address:x"], 200);
  assert.equal(found.host, "[TEMPUNAVAIL]");
});
