/** docs/CONFIG.md is generated from the schema; this keeps the committed copy in sync. */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CONFIG_KEYS } from "../lib/config/schema.ts";
import { configDocMarkdown } from "../scripts/gen_config_doc.ts";

const committed = () => readFileSync(new URL("../docs/CONFIG.md", import.meta.url), "utf8");

Deno.test("docs/CONFIG.md is in sync with schema.ts (run `deno task docs`)", () => {
  assert.equal(committed(), configDocMarkdown());
});

Deno.test("docs/CONFIG.md documents every key with its default, nginx name, context and example", () => {
  const doc = configDocMarkdown();
  for (const spec of CONFIG_KEYS) {
    const start = doc.indexOf(
      `<a id="${spec.context.replace(".", "-")}-${spec.name}"></a>\n\n### \`${spec.name}\``,
    );
    assert.ok(start >= 0, `no section for ${spec.context} ${spec.name}`);
    const section = doc.slice(start, doc.indexOf("\n<a id=", start + 1));
    assert.ok(section.includes(spec.doc), `${spec.name}: doc`);
    if (spec.kind !== "removed") assert.match(section, /\| Default \| .+ \|/, `${spec.name}: default`);
    assert.match(section, /\| nginx \| .+ \|/, `${spec.name}: nginx`);
    assert.match(section, /\| Where \| .+ \|/, `${spec.name}: where`);
    if (spec.directive) {
      assert.ok(section.includes(spec.directive.replaceAll("|", "\\|")), `${spec.name}: directive`);
    }
    if (spec.example) {
      assert.ok(section.includes(`\`\`\`toml\n${spec.example}\n\`\`\``), `${spec.name}: example`);
    }
  }
  assert.match(doc, /\| `worker_shutdown_timeout` \| \[`worker_shutdown_timeout`\]/);
});
