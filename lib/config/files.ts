/**
 * File checks for certificate, key and CA paths: done at load time so a typo in a path
 * is reported by `--check` instead of failing the first TLS handshake.
 * @module
 */

import { accessSync, constants, statSync } from "node:fs";

const REASONS: Record<string, string> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
};

/** Why a file cannot be read (strerror-like text, as nginx prints), or `null` if it can. */
export function fileProblem(path: string): string | null {
  try {
    if (statSync(path).isDirectory()) return "Is a directory";
    accessSync(path, constants.R_OK);
    return null;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    return REASONS[code] ?? (e instanceof Error ? e.message : String(e));
  }
}
