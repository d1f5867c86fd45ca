import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { removeTestPki, testPki } from "../../tests/lab/certs.ts";
import { checkCrls, parseCrls } from "./crl.ts";
import { pemBlocks } from "./der.ts";

const der = (file: string) => pemBlocks(readFileSync(file, "utf8"), "CERTIFICATE")[0];

Deno.test("CRL: revoked, covered, missing, expired", async () => {
  const pki = await testPki();
  const crls = parseCrls(readFileSync(pki.crl, "utf8"));
  assert.equal(crls.length, 1);
  const ca = der(pki.ca);
  assert.equal(checkCrls([der(pki.client.cert), ca], crls), null);
  assert.deepEqual(checkCrls([der(pki.revoked.cert), ca], crls), { code: 23, text: "certificate revoked" });
  // The intermediate has no CRL of its own: nginx's CRL_CHECK_ALL fails the chain.
  assert.deepEqual(checkCrls([der(pki.chained.cert), der(pki.intermediate), ca], crls), {
    code: 3,
    text: "unable to get certificate CRL",
  });
  assert.deepEqual(checkCrls([der(pki.client.cert), ca], crls, Date.now() + 10 * 86400_000), {
    code: 12,
    text: "CRL has expired",
  });
  assert.deepEqual(checkCrls([der(pki.client.cert), ca], []), {
    code: 3,
    text: "unable to get certificate CRL",
  });
});

Deno.test("CRL: a list signed by another key does not count", async () => {
  const pki = await testPki();
  const crls = parseCrls(readFileSync(pki.crl, "utf8"));
  const forged = { ...crls[0], signature: crls[0].signature.slice().fill(1) };
  assert.deepEqual(checkCrls([der(pki.revoked.cert), der(pki.ca)], [forged]), {
    code: 3,
    text: "unable to get certificate CRL",
  });
});

Deno.test("CRL: malformed PEM is a readable error", () => {
  assert.throws(
    () => parseCrls("-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n"),
    /CRL #1 is malformed/,
  );
});

Deno.test("CRL tests: remove the test PKI", async () => {
  await removeTestPki();
});
