/**
 * Collects every error and warning of one load, each prefixed with `FILE:LINE:` so the
 * user can fix them all in one pass instead of one per run.
 * @module
 */

import type { KeyPath, LineIndex } from "./locate.ts";

interface Finding {
  line: number;
  text: string;
}

/** The error and warning sink of one load. */
export class Reporter {
  readonly #errors: Finding[] = [];
  readonly #warnings: Finding[] = [];

  /** `file` is shown as given; `lines` maps key paths to lines. */
  constructor(readonly file: string, readonly lines: LineIndex) {}

  /** Number of errors so far (to tell whether a step added any). */
  get errorCount(): number {
    return this.#errors.length;
  }

  /** Errors in file order (stable for findings on the same line). */
  get errors(): string[] {
    return sorted(this.#errors);
  }

  /** Warnings in file order. */
  get warnings(): string[] {
    return sorted(this.#warnings);
  }

  /** `FILE:LINE` of a key path (or of its nearest enclosing table). */
  at(path: KeyPath): string {
    return `${this.file}:${this.lines.lineOf(path)}`;
  }

  /** Records an error located at `path`. */
  error(path: KeyPath, message: string): void {
    this.#errors.push({ line: this.lines.lineOf(path), text: `${this.at(path)}: ${message}` });
  }

  /** Records a warning located at `path`. */
  warn(path: KeyPath, message: string): void {
    this.#warnings.push({ line: this.lines.lineOf(path), text: `${this.at(path)}: ${message}` });
  }
}

function sorted(findings: Finding[]): string[] {
  return [...findings].sort((a, b) => a.line - b.line).map((f) => f.text);
}
