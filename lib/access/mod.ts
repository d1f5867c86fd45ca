/**
 * Who may connect: `allow`/`deny` rules (nginx access module semantics) and the
 * connection limits, with the refusal line each protocol gets.
 * @module
 */

export {
  type AccessAction,
  type AccessAddress,
  type AccessRule,
  checkAccess,
  matchAccess,
  parseAccessRule,
  type ParsedRule,
} from "./rules.ts";
export { type Admission, ConnectionLimits, type ConnectionLimitValues, type LimitRefusal } from "./limits.ts";
export { refusalLine, type RefusalReason } from "./refusal.ts";
export { accessAddress, type AdmissionResult, admitClient } from "./admission.ts";
export { refusalText, refuseClient } from "./refuse.ts";
