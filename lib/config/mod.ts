/**
 * Configuration: loading and validating the TOML file, the `--check` helpers and the
 * JSON Schema. Everything else in mailproxy consumes {@link Config}.
 * @module
 */

export { loadConfigFile, loadConfigText } from "./load.ts";
export type { LoadResult, LoadTextOptions } from "./load.ts";
export { summarizeConfig } from "./summary.ts";
export { checkPortsFree } from "./ports.ts";
export type { BusyPort } from "./ports.ts";
export { configJsonSchema, configJsonSchemaText } from "./json_schema.ts";
export { listenAddress } from "./listen.ts";
export { parseDuration, parseSize } from "./values.ts";
export { CONFIG_KEYS } from "./schema.ts";
export type { KeyContext, KeySpec, ValueKind } from "./schema.ts";
export type {
  AdminConfig,
  AuthCacheConfig,
  AuthHttpUrl,
  BackendRef,
  Config,
  HealthCheckConfig,
  ListenSpec,
  LogConfig,
  LoginLimitsConfig,
  ServerConfig,
  StaticAuthConfig,
  StaticUser,
  UpstreamConfig,
  UpstreamServerConfig,
} from "./types.ts";
export { splitHostPort } from "./addr.ts";
export { parseValue } from "./kinds.ts";
export type { KeyEnv } from "./kinds.ts";
export { findKey } from "./schema.ts";
export type { TomlValue } from "./schema.ts";
export { didYouMean } from "./suggest.ts";
export { protocolRange, usesClientTls } from "./tls_support.ts";
export { LEVEL_RANK, parseErrorLog } from "./error_log.ts";
export type { ErrorLogTarget, LogLevelName, SyslogTarget } from "./error_log.ts";
