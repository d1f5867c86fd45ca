import assert from "node:assert/strict";
import { affinityKey, hrwOrder } from "./hash.ts";

const servers = (n: number, weight = () => 1) =>
  Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${i + 1}:143`, weight: weight() }));

Deno.test("hrw: the same key gets the same order every time", () => {
  const s = servers(5);
  for (const key of ["alice", "bob", "carol@example.org"]) {
    assert.deepEqual(hrwOrder(key, s), hrwOrder(key, [...s].reverse()));
  }
});

Deno.test("hrw: keys spread evenly, and by weight", () => {
  const count = (s: { address: string; weight: number }[]) => {
    const n = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const top = hrwOrder(`user${i}`, s)[0].address;
      n.set(top, (n.get(top) ?? 0) + 1);
    }
    return n;
  };
  for (const v of count(servers(4)).values()) assert.ok(v > 4_500 && v < 5_500, `${v}`);
  const weighted = [{ address: "a:1", weight: 1 }, { address: "b:1", weight: 3 }];
  const n = count(weighted);
  const share = n.get("b:1")! / 20_000;
  assert.ok(share > 0.72 && share < 0.78, `${share}`);
});

Deno.test("hrw: removing a server moves only its own keys", () => {
  const all = servers(5);
  const fewer = all.filter((s) => s.address !== "10.0.0.3:143");
  for (let i = 0; i < 5_000; i++) {
    const before = hrwOrder(`u${i}`, all)[0].address;
    const after = hrwOrder(`u${i}`, fewer)[0].address;
    if (before !== "10.0.0.3:143") assert.equal(after, before);
  }
});

Deno.test("affinityKey: user, domain (lower case), none", () => {
  assert.equal(affinityKey("user", "Alice@Example.org"), "Alice@Example.org");
  assert.equal(affinityKey("domain", "Alice@Example.org"), "example.org");
  assert.equal(affinityKey("domain", "alice"), "alice");
  assert.equal(affinityKey("none", "alice"), null);
});
