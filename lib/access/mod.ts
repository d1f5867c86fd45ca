/**
 * Who may connect: `allow`/`deny` rules (nginx access module semantics) and the
 * connection limits, and why a connection was refused.
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
export { accessAddress, type AdmissionResult, admitClient } from "./admission.ts";
export { type RefusalReason, refusalText } from "./refuse.ts";
