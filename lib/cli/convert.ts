/**
 * `mailproxy convert NGINX_CONF`: prints the equivalent TOML config on stdout, lists
 * what could not be converted on stderr, then loads the result as `--check` would and
 * says what still fails. Exit 0: everything converted and it loads; 2: something was
 * reported; 1: the nginx config could not be read or parsed.
 * @module
 */

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfigText } from "../config/mod.ts";
import { convertNginxConfig, formatReport, fsIncludeReader } from "../convert/mod.ts";
import { VERSION } from "../version.ts";

const USAGE = `Usage: mailproxy convert NGINX_CONF > mailproxy.toml

Converts the mail {} block of an nginx config (with its includes) to mailproxy's TOML.
What cannot be converted is listed at the top of the output and on stderr.
Exit status: 0 everything converted, 2 something reported, 1 unreadable input.
`;

/** Output channels (the CLI's). */
export interface ConvertIo {
  out(text: string): void;
  err(text: string): void;
}

/** Runs `mailproxy convert ARGS`; resolves with the exit code. */
export async function runConvert(argv: string[], io: ConvertIo): Promise<number> {
  let positionals: string[];
  let help = false;
  try {
    const parsed = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h", default: false } },
      strict: true,
      allowPositionals: true,
    });
    positionals = parsed.positionals;
    help = parsed.values.help ?? false;
  } catch (err) {
    io.err(`mailproxy convert: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 1;
  }
  if (help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.err(`mailproxy convert: expected one nginx config file\n${USAGE}`);
    return 1;
  }
  const file = positionals[0];
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.err(`mailproxy convert: ${file}: ${code === "ENOENT" ? "No such file or directory" : String(e)}\n`);
    return 1;
  }
  const baseDir = dirname(resolve(file));
  const result = convertNginxConfig(text, {
    file,
    baseDir,
    readInclude: fsIncludeReader(baseDir),
    version: VERSION,
  });
  if (!result.ok) {
    for (const e of result.errors) io.err(`${e}\n`);
    io.err(`mailproxy convert: cannot convert ${file}\n`);
    return 1;
  }
  io.out(result.toml);
  for (const r of result.reports) io.err(`not converted: ${formatReport(r)}\n`);
  const loads = checkLoads(result.toml, baseDir, io);
  if (result.reports.length > 0) {
    io.err(`mailproxy convert: ${result.reports.length} directive(s) not converted; see above\n`);
  }
  return result.reports.length > 0 || !loads ? 2 : 0;
}

/** Loads the output as the proxy would (files checked on this machine); reports what fails. */
function checkLoads(toml: string, baseDir: string, io: ConvertIo): boolean {
  const name = "converted.toml";
  const loaded = loadConfigText(toml, name, { baseDir, ignoreBuildSupport: true });
  if (!loaded.ok) {
    io.err("mailproxy convert: the converted config does not load yet (fix these before use):\n");
    for (const e of loaded.errors) io.err(`  ${e}\n`);
    return false;
  }
  const build = loadConfigText(toml, name, { baseDir });
  if (!build.ok) {
    io.err("note: valid, but this build of mailproxy cannot serve all of it yet:\n");
    for (const e of build.errors) io.err(`  ${e}\n`);
  }
  return true;
}
