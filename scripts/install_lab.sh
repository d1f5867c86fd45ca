#!/usr/bin/env bash
# Installs the real servers and clients the integration tests and benchmarks drive:
# Dovecot (IMAP/POP3/LMTP, ManageSieve with sieve-connect), Postfix, nginx with the mail module, curl, swaks, openssl,
# redis-server and haproxy (the multi-node work of issue #16: shared state, a balancer in front), and
# Chromium (the status page test drives it headless through playwright-core).
# Idempotent: packages already present are skipped. Needs root (apt-get) on Debian.
# Also creates the `vmail` system user that owns the lab's maildirs (tests/lab/dovecot.ts
# creates it on demand as well).
set -euo pipefail

ensure_vmail() {
  if ! getent passwd vmail >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
      echo "install_lab: user vmail missing and not root; create it with useradd --system vmail" >&2
      exit 1
    fi
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vmail
  fi
}

need=()
for pkg in dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-managesieved dovecot-sieve sieve-connect postfix nginx libnginx-mod-mail curl swaks openssl python3 ca-certificates chromium redis-server haproxy; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  ensure_vmail
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install_lab: missing packages ${need[*]} and not root; install them with apt-get" >&2
  exit 1
fi
echo "install_lab: installing ${need[*]}" >&2
# Debian's maintainer scripts try to start the daemons; there is no init system here, and the
# tests start private instances anyway, so forbid service starts during the install.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
ensure_vmail
