/**
 * Converts the `mail {}` block: mail-level directives become top-level keys, each
 * `server {}` a `[[server]]` table. Every directive is looked up in the config schema;
 * what has no key, sits in the wrong context or has an invalid value is reported.
 * @module
 */

import { didYouMean } from "../config/mod.ts";
import { allowedIn, contextName, keyForDirective, knownDirectives, type NginxContext } from "./key_index.ts";
import { Level } from "./level.ts";
import type { Directive } from "./parse.ts";
import type { ConvertSession } from "./session.ts";
import { convertValue, REPEATABLE } from "./values.ts";

/** A converted `server {}`: its keys and the block it came from (for its comments). */
export interface ServerOut {
  level: Level;
  directive: Directive;
}

/** Converts a `mail {}` block into the top level and `servers`. */
export function convertMail(
  session: ConvertSession,
  mail: Directive,
  top: Level,
  servers: ServerOut[],
): void {
  top.comment([...mail.comments, ...mail.trailing]);
  if (mail.args.length > 0) {
    session.report({ ...mail, block: undefined }, '"mail" takes no arguments; they were ignored');
  }
  for (const d of session.expand(mail.block ?? [])) {
    if (d.name === "") top.comment(d.comments);
    else if (d.name === "server" && d.block) servers.push(convertServer(session, d));
    else if (d.name === "server") session.report(d, '"server" directive needs a { … } block', top);
    else convertDirective(session, d, top, "mail");
  }
  top.comment(mail.endComments);
}

function convertServer(session: ConvertSession, server: Directive): ServerOut {
  const level = new Level();
  if (server.args.length > 0) {
    session.report(
      { ...server, block: undefined },
      '"server" takes no arguments in mail {}; they were ignored',
    );
  }
  for (const d of session.expand(server.block ?? [])) {
    if (d.name === "") level.comment(d.comments);
    else convertDirective(session, d, level, "server");
  }
  level.comment(server.endComments);
  return { level, directive: server };
}

/** Converts one directive of `context` into `level`, or reports it. */
export function convertDirective(
  session: ConvertSession,
  d: Directive,
  level: Level,
  context: NginxContext,
): void {
  const report = (reason: string) => session.report(d, reason, level);
  const spec = keyForDirective(d.name);
  if (!spec) return report(`unknown directive "${d.name}"${didYouMean(d.name, knownDirectives())}`);
  if (spec.kind === "table_array") {
    return report(`"${d.name}" directive is not allowed here (it belongs in mail {})`);
  }
  if (!allowedIn(spec, context)) {
    return report(`"${d.name}" directive is not allowed here (it belongs in ${contextName(spec)})`);
  }
  if (d.block) return report(`"${d.name}" directive takes no block`);
  if (spec.kind === "removed") return convertRemovedSsl(session, d, level, spec.reason ?? "was removed");
  if (level.has(spec.name) && !REPEATABLE.has(spec.kind)) {
    return report(`"${d.name}" directive is duplicate (nginx refuses this; the first one was converted)`);
  }
  let args = d.args;
  if (spec.kind === "resolver") {
    // Only the addresses have a meaning for mailproxy; the options are reported on their own.
    const options = args.filter((a) => /^[a-z][a-z0-9_]*=/.test(a));
    if (options.length > 0) {
      args = args.filter((a) => !options.includes(a));
      const reason = `resolver options ${options.join(" ")} are not supported by mailproxy (only addresses)`;
      // With no address left nothing is converted: mark the place as for any other report.
      session.report(d, reason, args.length === 0 ? level : undefined);
      if (args.length === 0) return;
    }
  }
  const result = convertValue(spec, d.name, args, session.opts.baseDir, `(${d.file}:${d.line})`);
  if (!result.ok) return report(result.errors.join("; "));
  if (spec.kind === "headers") {
    const name = d.args[0];
    if (level.headerNames(spec.name).includes(name)) {
      return report(
        `header "${name}" is set twice at this level; a TOML table keeps one (the first was converted)`,
      );
    }
  }
  const notes = [...result.warnings];
  const variable = d.args.find((a) => /\$\{?[A-Za-z_]/.test(a));
  if (variable !== undefined) {
    notes.push(`nginx has no variables in mail {}: "${variable}" is used literally`);
  }
  level.add(spec, result.value, d, notes);
}

/** `ssl on` (removed in nginx 1.25.1) made every listen of the server TLS: record it for the listens. */
function convertRemovedSsl(session: ConvertSession, d: Directive, level: Level, reason: string): void {
  const arg = d.args.length === 1 ? d.args[0].toLowerCase() : "";
  if (arg !== "on" && arg !== "off") return session.report(d, `"${d.name}" ${reason}`, level);
  level.sslOn = arg === "on";
  const meaning = arg === "on" ? 'converted as "ssl" on every listen' : "the default, nothing to convert";
  level.comment([...d.comments, ` ssl ${arg} (removed from nginx in 1.25.1): ${meaning}`, ...d.trailing]);
}
