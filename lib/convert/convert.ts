/**
 * `mailproxy convert`: nginx.conf (the `mail {}` block, its includes and the main
 * context it needs) → an equivalent TOML config. Pure apart from the injected include
 * reader: text in, text out. Directives that cannot be converted are never dropped
 * silently: they are listed with the reason at the top of the output and returned.
 * @module
 */

import { findKey } from "../config/mod.ts";
import { Level } from "./level.ts";
import { convertMail, type ServerOut } from "./mail_block.ts";
import { convertMainDirective, type LogOut } from "./main_context.ts";
import { type Directive, parseNginx } from "./parse.ts";
import { ConvertSession } from "./session.ts";
import { renderToml, type TomlSection } from "./toml_write.ts";
import type { ConvertOptions, ConvertReport, ConvertResult } from "./types.ts";

/** One report as a line: `FILE:LINE: DIRECTIVE — REASON`. */
export function formatReport(r: ConvertReport): string {
  return `${r.file}:${r.line}: ${r.directive} — ${r.reason}`;
}

/** Converts nginx config text; see {@link ConvertOptions}. */
export function convertNginxConfig(text: string, opts: ConvertOptions): ConvertResult {
  // Windows editors may save a byte order mark, which nginx would read as part of the first word.
  const parsed = parseNginx(text.replace(/^\uFEFF/, ""), opts.file);
  if (!parsed.ok) return { ok: false, toml: "", reports: [], errors: [parsed.error] };
  const session = new ConvertSession(opts);
  const top = new Level();
  const servers: ServerOut[] = [];
  const log: LogOut = { entries: [] };
  let mail: Directive | undefined;
  for (const d of session.expand(parsed.directives)) {
    if (d.name !== "mail" || !d.block) convertMainDirective(session, d, top, log);
    else if (mail) {
      session.report(d, `"mail" directive is duplicate (first in ${mail.file}:${mail.line})`, top);
    } else {
      mail = d;
      convertMail(session, d, top, servers);
    }
  }
  if (!mail) session.errors.push(`${opts.file}: no mail {} block found (nothing to convert)`);
  const errorLog = findKey("top", "error_log");
  for (const { value, directive } of log.entries) {
    if (!errorLog) break;
    if (top.has("error_log") && !log.fromMain) {
      // mail {} has its own: nginx sends only non-mail lines to the main one; mailproxy has none of those.
      top.comment([
        ` ${directive.name} ${directive.args.join(" ")}: mail {} has its own error_log, which mailproxy uses`,
      ]);
      continue;
    }
    log.fromMain = true;
    top.add(errorLog, [value], directive);
  }
  if (session.errors.length > 0) {
    return { ok: false, toml: "", reports: session.reports, errors: session.errors };
  }

  const sections: TomlSection[] = [
    { comments: header(opts, session.reports), trailing: [], items: [] },
    { comments: [], trailing: [], items: top.items(false) },
    ...servers.map(({ level, directive }): TomlSection => ({
      header: "[[server]]",
      comments: directive.comments,
      trailing: directive.trailing,
      items: level.items(level.sslOn ?? top.sslOn ?? false),
    })),
  ];
  sections.push({ comments: parsed.endComments, trailing: [], items: [] });
  return { ok: true, toml: renderToml(sections), reports: session.reports, errors: [] };
}

function header(opts: ConvertOptions, reports: ConvertReport[]): string[] {
  const lines = [
    ` mailproxy configuration converted from ${opts.file} by \`mailproxy convert\`` +
    (opts.version ? ` (mailproxy ${opts.version})` : "") + ".",
    " Check it with: mailproxy --check --config FILE",
    "",
  ];
  if (reports.length === 0) return [...lines, " Every directive was converted."];
  lines.push(` NOT CONVERTED (${reports.length}): review these; each is also marked where it stood.`);
  for (const r of reports) lines.push(`   ${formatReport(r)}`);
  return lines;
}
