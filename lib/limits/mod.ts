/**
 * Login limits (`[login_limits]`): failure counters per client network and per user,
 * growing delays and temporary blocks.
 * @module
 */

export {
  type LimitEntry,
  type LimitRule,
  type LimitVerdict,
  LoginLimits,
  type LoginLimitsConfig,
  networkOf,
} from "./login_limits.ts";
