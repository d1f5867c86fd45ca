/**
 * Entry points: read a TOML config file (or text), report syntax errors as
 * `file:line:col: message`, and resolve it into a {@link Config}.
 * @module
 */

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { unsupportedByBuild } from "./build_support.ts";
import { indexKeyLines } from "./locate.ts";
import { type LoadResult, resolveConfig } from "./resolve.ts";

export type { LoadResult } from "./resolve.ts";

/** Options of {@link loadConfigText}. */
export interface LoadTextOptions {
  /** Directory relative paths resolve against; default: the directory of `file`. */
  baseDir?: string;
  /** Validate as nginx would, without refusing what this build cannot serve yet (config unit tests). */
  ignoreBuildSupport?: boolean;
}

/**
 * Parses and validates config text. `file` names the source in messages (as given) and,
 * made absolute, becomes {@link Config.file}.
 */
export function loadConfigText(text: string, file: string, opts: LoadTextOptions = {}): LoadResult {
  const absFile = resolve(file);
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    return { ok: false, errors: [syntaxError(e, file)] };
  }
  const result = resolveConfig({
    doc,
    file,
    absFile,
    baseDir: opts.baseDir ?? dirname(absFile),
    lines: indexKeyLines(text),
  });
  if (!result.ok || opts.ignoreBuildSupport) return result;
  const unsupported = unsupportedByBuild(result.config, file);
  return unsupported.length > 0 ? { ok: false, errors: unsupported } : result;
}

/** Reads and validates a config file; relative paths inside resolve against its directory. */
export async function loadConfigFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    const reason = code === "ENOENT"
      ? "No such file or directory"
      : code === "EACCES"
      ? "Permission denied"
      : code === "EISDIR"
      ? "Is a directory"
      : e instanceof Error
      ? e.message
      : String(e);
    return { ok: false, errors: [`${path}: ${reason}`] };
  }
  return loadConfigText(text, path);
}

/** smol-toml's message is "Invalid TOML document: WHAT\n\n<code excerpt>"; keep WHAT only. */
function syntaxError(e: unknown, file: string): string {
  if (e instanceof TomlError) {
    const what = e.message.split("\n")[0].replace(/^Invalid TOML document:\s*/, "");
    return `${file}:${e.line}:${e.column}: ${what}`;
  }
  return `${file}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
}
