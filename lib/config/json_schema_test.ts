import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configJsonSchema, configJsonSchemaText } from "./json_schema.ts";
import { CONFIG_KEYS } from "./schema.ts";

type Obj = Record<string, unknown> & { properties: Record<string, Record<string, unknown>> };

Deno.test("docs/config.schema.json is in sync with schema.ts (run `deno task schema`)", () => {
  const committed = readFileSync(
    fileURLToPath(new URL("../../docs/config.schema.json", import.meta.url)),
    "utf8",
  );
  assert.equal(committed, configJsonSchemaText());
});

Deno.test("JSON schema: draft 2020-12, closed objects, every key described", () => {
  const schema = configJsonSchema() as Obj;
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(schema.additionalProperties, false);
  const server = schema.properties.server.items as Obj;
  assert.equal(server.additionalProperties, false);
  assert.deepEqual(server.required, ["listen"]);
  assert.equal(schema.properties.ssl, undefined, "removed directives are not offered");
  assert.equal(server.properties.timeout.default, "60s");
  assert.match(String(server.properties.timeout.description), /nginx: `timeout TIME;`/);
  assert.deepEqual(server.properties.starttls.anyOf, [{ enum: ["off", "on", "only"] }, { type: "boolean" }]);
  assert.equal(schema.properties.listen, undefined, "listen is server-only");
  assert.equal(schema.properties.worker_processes.default, 1);
  assert.equal(server.properties.worker_processes, undefined, "worker_processes is top-only");
  const user = (schema.properties.static_auth as Obj).properties.user.items as Obj;
  assert.deepEqual(user.required, ["name", "password"]);
  for (const key of CONFIG_KEYS.filter((k) => k.kind !== "removed" && k.context === "mail")) {
    assert.equal(typeof server.properties[key.name]?.description, "string", key.name);
    assert.ok(schema.properties[key.name], `${key.name} missing at top level`);
  }
  const duration = new RegExp(String((server.properties.timeout.anyOf as Obj[])[1].pattern));
  assert.ok(duration.test("1h30m") && !duration.test("soon"));
});
