/**
 * State of one conversion: the reports, fatal errors, and `include` expansion (files
 * read through the injected reader, depth-limited and loop-checked, so bad input can
 * neither crash nor hang the converter).
 * @module
 */

import type { Level } from "./level.ts";
import { type Directive, directiveText, parseNginx } from "./parse.ts";
import type { ConvertOptions, ConvertReport } from "./types.ts";

/** nginx has no limit; a chain this deep is a mistake or a loop. */
const MAX_INCLUDE_DEPTH = 16;
/** Files read per conversion: includes that fan out (each file including two more) grow exponentially. */
const MAX_INCLUDED_FILES = 1000;

/** A comment-only pseudo directive (its name is empty) that carries comments through expansion. */
export function commentCarrier(lines: string[], file: string, line: number): Directive {
  return { name: "", args: [], file, line, comments: lines, trailing: [], endComments: [] };
}

/** Reports and include expansion shared by the context converters. */
export class ConvertSession {
  readonly reports: ConvertReport[] = [];
  readonly errors: string[] = [];
  #filesRead = 0;

  constructor(readonly opts: ConvertOptions) {}

  /**
   * Records a directive that was not converted, and leaves a comment where it was
   * (with its own comments) in `level`.
   */
  report(d: Directive, reason: string, level?: Level): void {
    this.reports.push({ file: d.file, line: d.line, directive: directiveText(d), reason });
    level?.comment(this.#inPlace(d));
  }

  /** The comment left where a directive that was not converted stood. */
  #inPlace(d: Directive): string[] {
    return [...d.comments, ` not converted (${d.file}:${d.line}): ${directiveText(d)}`, ...d.trailing];
  }

  /**
   * The directives of a block with `include`s replaced by the files' directives. An
   * include that fails is reported and replaced by its in-place comment.
   */
  expand(list: Directive[]): Directive[] {
    const out: Directive[] = [];
    this.#expandInto(list, out, []);
    return out;
  }

  #expandInto(list: Directive[], out: Directive[], chain: string[]): void {
    const fail = (d: Directive, reason: string) => {
      this.report(d, reason);
      out.push(commentCarrier(this.#inPlace(d), d.file, d.line));
    };
    for (const d of list) {
      if (d.name !== "include" || d.block) {
        out.push(d);
        continue;
      }
      if (d.args.length !== 1) {
        fail(d, 'invalid number of arguments in "include" directive');
        continue;
      }
      if (chain.length >= MAX_INCLUDE_DEPTH) {
        fail(d, `includes nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`);
        continue;
      }
      if (this.#filesRead >= MAX_INCLUDED_FILES) {
        fail(d, `more than ${MAX_INCLUDED_FILES} included files in all (includes that fan out?)`);
        continue;
      }
      const read = this.opts.readInclude?.(d.args[0]) ?? { error: "include files cannot be read here" };
      if ("error" in read) {
        fail(d, read.error);
        continue;
      }
      out.push(commentCarrier([...d.comments, ` include ${d.args[0]}`, ...d.trailing], d.file, d.line));
      for (const file of read.files) {
        this.#filesRead++;
        if (chain.includes(file.path)) {
          fail(d, `"${file.path}" includes itself`);
          continue;
        }
        const parsed = parseNginx(file.text, file.path);
        if (!parsed.ok) {
          this.errors.push(parsed.error);
          continue;
        }
        this.#expandInto(parsed.directives, out, [...chain, file.path]);
        if (parsed.endComments.length > 0) out.push(commentCarrier(parsed.endComments, file.path, 0));
      }
    }
  }
}
