/**
 * `mailproxy convert NGINX_CONF`: prints the equivalent TOML config on stdout, lists
 * what could not be converted on stderr, then validates the result exactly as `--check`
 * does on this runtime (everything but binding the ports, which is the machine's state,
 * not the config's) and says what fails. The promise: exit 0 means the output passes
 * `--check`; otherwise exit 2 with every reason on stderr (and at the end of the output,
 * as comments). Exit 1: the nginx config could not be read or parsed.
 * @module
 */

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfigText } from "../config/mod.ts";
import { convertNginxConfig, formatReport, fsIncludeReader } from "../convert/mod.ts";
import { runtimeVersion } from "../transport/mod.ts";
import { VERSION } from "../version.ts";

const USAGE = `Usage: mailproxy convert NGINX_CONF > mailproxy.toml

Converts the mail {} block of an nginx config (with its includes) to mailproxy's TOML.
What cannot be converted is listed at the top of the output and on stderr.
Exit status: 0 everything converted and the result passes --check here;
2 something was not converted, or the result fails --check (every reason is on stderr);
1 unreadable input.
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
  const problems = checkLoads(result.toml, baseDir);
  io.out(problems.length === 0 ? result.toml : withProblems(result.toml, problems));
  for (const r of result.reports) io.err(`not converted: ${formatReport(r)}\n`);
  if (problems.length > 0) {
    io.err(
      `mailproxy convert: the converted config fails --check on ${runtimeVersion()} (fix these before use):\n`,
    );
    for (const e of problems) io.err(`  ${e}\n`);
  }
  if (result.reports.length > 0) {
    io.err(`mailproxy convert: ${result.reports.length} directive(s) not converted; see above\n`);
  }
  return result.reports.length > 0 || problems.length > 0 ? 2 : 0;
}

/** The name the output is validated under (it is not written anywhere yet). */
const OUTPUT_NAME = "converted.toml";

/**
 * Validates the output as `--check` does (files checked on this machine, and what this
 * build and runtime can serve); returns every error, none when it passes.
 */
function checkLoads(toml: string, baseDir: string): string[] {
  const loaded = loadConfigText(toml, OUTPUT_NAME, { baseDir });
  return loaded.ok ? [] : loaded.errors;
}

/**
 * The output with the --check errors as comments at its end (lines above keep their
 * numbers, which the messages cite), and the header no longer claiming all is well.
 */
function withProblems(toml: string, problems: string[]): string {
  const head = toml.replace(
    "# Every directive was converted.",
    "# Every directive was converted, but the result fails --check: see the end of this file.",
  );
  const lines = [
    "",
    `# FAILS --check on ${runtimeVersion()} (line numbers are this file's, as ${OUTPUT_NAME}):`,
    ...problems.map((p) => `#   ${p}`),
    "",
  ];
  return head + lines.join("\n");
}
