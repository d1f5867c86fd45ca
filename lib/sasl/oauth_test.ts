import assert from "node:assert/strict";

const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  assert.deepStrictEqual(actual, expected, message);
import { decodeOAuthBearer, decodeXOAuth2, encodeOAuthBearer, encodeXOAuth2 } from "./oauth.ts";
import { startSasl } from "./mechanisms.ts";
import { encodeBase64 } from "./base64.ts";

const policy = { cramMd5: false, external: false, oauthbearer: true, xoauth2: true, salt: () => "<1@x>" };

Deno.test("OAUTHBEARER: authzid with escapes, host/port ignored, token out", () => {
  const msg = "n,a=u=2Cs=3Der@x,\x01host=mail.example\x01port=993\x01auth=Bearer tok.en-1\x01\x01";
  assertEquals(decodeOAuthBearer(msg), { ok: true, value: { authzid: "u,s=er@x", token: "tok.en-1" } });
});

Deno.test("OAUTHBEARER: no authzid, lower-case scheme, missing final ^A accepted", () => {
  assertEquals(decodeOAuthBearer("n,,\x01auth=bearer abc"), {
    ok: true,
    value: { authzid: "", token: "abc" },
  });
  assertEquals(decodeOAuthBearer("y,,\x01auth=Bearer abc\x01\x01").ok, true);
});

Deno.test("OAUTHBEARER: bad forms are refused without the token in the reason", () => {
  for (
    const msg of [
      "",
      "n,,",
      "p=tls-unique,,\x01auth=Bearer secret\x01\x01",
      "n,b=x,\x01auth=Bearer secret\x01\x01",
      "n,a=bad=2Xesc,\x01auth=Bearer secret\x01\x01",
      "n,,\x01auth=Basic secret\x01\x01",
      "n,,\x01host=x\x01\x01",
      "n,,\x01auth=Bearer sec\nret\x01\x01",
    ]
  ) {
    const out = decodeOAuthBearer(msg);
    assertEquals(out.ok, false, JSON.stringify(msg));
    if (!out.ok) assertEquals(out.reason.includes("secret"), false);
  }
});

Deno.test("XOAUTH2: user and token", () => {
  assertEquals(decodeXOAuth2("user=a@b\x01auth=Bearer ya29.x\x01\x01"), {
    ok: true,
    value: { authzid: "a@b", token: "ya29.x" },
  });
  assertEquals(decodeXOAuth2("auth=Bearer x\x01\x01").ok, false);
  assertEquals(decodeXOAuth2("user=a\x01\x01").ok, false);
});

Deno.test("encoders round-trip through the decoders", () => {
  assertEquals(decodeOAuthBearer(encodeOAuthBearer("a,b=c", "T")), {
    ok: true,
    value: { authzid: "a,b=c", token: "T" },
  });
  assertEquals(decodeOAuthBearer(encodeOAuthBearer("", "T")), {
    ok: true,
    value: { authzid: "", token: "T" },
  });
  assertEquals(decodeXOAuth2(encodeXOAuth2("u", "T")), { ok: true, value: { authzid: "u", token: "T" } });
});

Deno.test("startSasl: OAuth mechanisms inline, after an empty challenge, and only when enabled", () => {
  const ir = encodeBase64(encodeXOAuth2("u@x", "T".repeat(6144)));
  const inline = startSasl("xoauth2", [ir], policy);
  assertEquals(inline, {
    kind: "credentials",
    credentials: { method: "xoauth2", user: "u@x", pass: "T".repeat(6144) },
  });
  const started = startSasl("OAUTHBEARER", [], policy);
  assertEquals(started.kind === "challenge" && started.challenge, "");
  if (started.kind === "challenge") {
    assertEquals(started.exchange.respond(encodeBase64(encodeOAuthBearer("", "abc"))), {
      kind: "credentials",
      credentials: { method: "oauthbearer", user: "", pass: "abc" },
    });
  }
  assertEquals(startSasl("OAUTHBEARER", [], { ...policy, oauthbearer: false }).kind, "error");
  assertEquals(startSasl("XOAUTH2", ["!!"], policy).kind, "error");
});
