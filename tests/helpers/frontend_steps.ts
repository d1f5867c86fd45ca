/**
 * Drives a sans-I/O {@link Frontend} in tests the way the session driver does:
 * feed a chunk, take steps until the machine needs more bytes, and record every
 * step with its bytes as a binary string.
 * @module
 */

import type { Frontend, FrontendStep } from "../../lib/protocols/types.ts";
import type { Credentials } from "../../lib/types.ts";
import { fromBinary, toBinary } from "../../lib/util/bytes.ts";

/** One recorded step; `data` is the bytes as a binary string. */
export type StepRecord =
  | { kind: "send"; data: string }
  | { kind: "close"; data: string; reason: string }
  | { kind: "auth"; credentials: Credentials }
  | { kind: "starttls"; data: string };

/** Converts a step for comparisons. */
export function recordStep(step: FrontendStep): StepRecord {
  switch (step.kind) {
    case "send":
      return { kind: "send", data: toBinary(step.data) };
    case "close":
      return { kind: "close", data: step.data ? toBinary(step.data) : "", reason: step.reason };
    case "auth":
      return { kind: "auth", credentials: step.credentials };
    case "starttls":
      return { kind: "starttls", data: toBinary(step.data) };
  }
}

/** Takes steps until `step()` returns null. */
export function drain(frontend: Frontend): StepRecord[] {
  const out: StepRecord[] = [];
  for (let step = frontend.step(); step !== null; step = frontend.step()) out.push(recordStep(step));
  return out;
}

/** Feeds each chunk (binary strings) and drains after each one. */
export function feed(frontend: Frontend, ...chunks: string[]): StepRecord[] {
  const out: StepRecord[] = [];
  for (const chunk of chunks) {
    frontend.receive(fromBinary(chunk));
    out.push(...drain(frontend));
  }
  return out;
}

/** Feeds `input` one byte at a time, draining after each byte. */
export function feedBytewise(frontend: Frontend, input: string): StepRecord[] {
  return feed(frontend, ...input.split(""));
}

/** Everything the client would read from the recorded steps, concatenated. */
export function clientText(steps: readonly StepRecord[]): string {
  return steps.map((s) => ("data" in s ? s.data : "")).join("");
}
