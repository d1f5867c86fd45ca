/**
 * The nginx → TOML config converter (`mailproxy convert`).
 * @module
 */

export { convertNginxConfig, formatReport } from "./convert.ts";
export { fsIncludeReader } from "./fs_include.ts";
export type { ConvertOptions, ConvertReport, ConvertResult, IncludeReader, IncludeResult } from "./types.ts";
