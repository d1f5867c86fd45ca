/**
 * Shared types of the nginx → TOML converter.
 * @module
 */

/** A directive the converter could not carry over, and why. */
export interface ConvertReport {
  /** File the directive is in (as named in messages). */
  file: string;
  line: number;
  /** The directive as nginx text, e.g. `ssl_dhparam /etc/ssl/dh.pem;`. */
  directive: string;
  reason: string;
}

/** Files matched by an `include` pattern, sorted, with their text; or why they cannot be read. */
export type IncludeResult = { files: { path: string; text: string }[] } | { error: string };

/**
 * Reads what an `include` names. The pattern is passed as written; the reader resolves
 * it (nginx: against the directory of the main config file) and expands globs.
 */
export type IncludeReader = (pattern: string) => IncludeResult;

/** Options of {@link convertNginxConfig}. */
export interface ConvertOptions {
  /** Name of the config file in messages (e.g. as the user typed it). */
  file: string;
  /**
   * Absolute directory relative paths are resolved against (nginx's conf prefix: the
   * directory of the main config file). Converted file paths are made absolute with it,
   * because the TOML file will usually live elsewhere.
   */
  baseDir: string;
  /** Reads `include` files; without it every `include` is reported. */
  readInclude?: IncludeReader;
  /** Version written into the header comment. */
  version?: string;
}

/** What a conversion produced. */
export interface ConvertResult {
  /** False when the input could not be parsed; `toml` is then empty. */
  ok: boolean;
  /** The TOML config (with the report as comments at the top). */
  toml: string;
  /** Every directive that was not converted; empty means everything mapped. */
  reports: ConvertReport[];
  /** Fatal problems (syntax errors), as `FILE:LINE: message`. */
  errors: string[];
}
