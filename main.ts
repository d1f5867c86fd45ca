/**
 * mailproxy entry point: `deno run … main.ts --config proxy.toml`, `bun run main.ts`,
 * or the compiled executable.
 * @module
 */

import process from "node:process";
import { main } from "./lib/cli/mod.ts";
import { flushLogs } from "./lib/log/mod.ts";

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      // Only a bug gets here; user errors are reported by main() itself.
      flushLogs();
      process.stderr.write(`mailproxy: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(70);
    },
  );
}
