/**
 * `smtp_capabilities` entries mailproxy refuses because the relay cannot carry
 * them safely.
 *
 * Clients see mailproxy's EHLO reply, never the backend's, and after
 * authentication their bytes go to the backend unchecked. BDAT (CHUNKING, RFC 3030)
 * sends message data right behind the command without waiting for a reply: if the
 * backend does not take BDAT (or the proxy in front of it changes), it refuses the
 * command and then reads the message data as SMTP commands, and the mail is lost
 * (an nginx deployment lost mail this way). Advertising it is a config error.
 * @module
 */

/** Why an EHLO keyword may not be listed, by keyword (upper case). */
const REFUSED: Record<string, string> = {
  CHUNKING: "BDAT",
  BDAT: "BDAT",
};

/**
 * One error message per refused entry of `smtp_capabilities` (matched on the
 * entry's first word, case-insensitively).
 */
export function refusedSmtpCapabilities(capabilities: readonly string[]): string[] {
  const errors: string[] = [];
  for (const entry of capabilities) {
    const keyword = entry.trim().split(/\s+/)[0].toUpperCase();
    if (!(keyword in REFUSED)) continue;
    errors.push(
      `smtp_capabilities must not list "${entry}": clients see mailproxy's EHLO reply, not the ` +
        `backend's, and ${REFUSED[keyword]} sends message data without waiting for a reply, so a ` +
        `backend that refuses it reads the message as SMTP commands and the mail is lost; remove it`,
    );
  }
  return errors;
}
