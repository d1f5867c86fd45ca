/**
 * The `backend-login` phase for one candidate: feeds the protocol's login machine
 * (lib/protocols/<p>/backend_login.ts) the backend's replies and writes its lines,
 * until it says done (the reply for the client) or fails. Failures come back
 * classified (backend_target.ts); a write error throws.
 * @module
 */

import type { BackendLogin } from "../protocols/mod.ts";
import type { Conn } from "../transport/mod.ts";
import type { BackendFailure } from "./backend_target.ts";
import { EMPTY, errorText } from "./context.ts";
import type { SessionScope } from "./scope.ts";

/**
 * Runs `login` over `conn`; `greeting` (read by the preamble) is fed first. Resolves
 * with the bytes for the client (the backend's success reply) or the failure. `spoke`,
 * if given, is called when the backend's first bytes are read (a candidate's connect
 * timeout then gives way to the rest of `timeout`, backend.ts).
 */
export async function loginBackend(
  s: SessionScope,
  conn: Conn,
  greeting: Uint8Array | null,
  login: BackendLogin,
  spoke?: () => void,
): Promise<Uint8Array | BackendFailure> {
  // Until the machine first writes, the backend has judged nothing of the user's:
  // a bad greeting is a transport failure, anything after that a rejection.
  let sent = false;
  let replay = greeting;
  while (true) {
    let data: Uint8Array | null;
    try {
      data = replay ?? await conn.read();
      replay = null;
      if (spoke !== undefined && data !== null) spoke();
    } catch (err) {
      if (!s.deadline.expired) return transport(`read error: ${errorText(err)}`, login);
      data = null;
    }
    if (data === null) {
      return transport(s.deadline.expired ? "upstream timed out" : "upstream closed connection", login);
    }
    let step = login.receive(data);
    while (step !== null) {
      if (step.kind === "send") {
        await conn.write(step.data);
        sent = true;
        step = login.receive(EMPTY);
      } else if (step.kind === "fail") {
        return {
          kind: sent ? "rejected" : "transport",
          stage: "login",
          why: step.log,
          toClient: step.toClient,
        };
      } else {
        return step.toClient;
      }
    }
  }
}

function transport(why: string, login: BackendLogin): BackendFailure {
  return { kind: "transport", stage: "login", why, toClient: login.internalError() };
}
