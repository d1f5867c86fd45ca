/**
 * Writes docs/config.schema.json from lib/config/schema.ts (`deno task schema`).
 * A test fails when the committed file differs, so run this after changing the schema.
 * @module
 */

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configJsonSchemaText } from "../lib/config/json_schema.ts";

const target = fileURLToPath(new URL("../docs/config.schema.json", import.meta.url));
writeFileSync(target, configJsonSchemaText());
console.log(`wrote ${target}`);
