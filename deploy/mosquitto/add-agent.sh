#!/bin/sh
# Adds (or resets) an MQTT user in the fleet broker's password file and prints the password once.
# Usage: add-agent.sh HOST_ID [PASSWORD_FILE]    (run as root on the broker host)
set -eu
host="${1:?usage: add-agent.sh HOST_ID [PASSWORD_FILE]}"
file="${2:-/etc/mosquitto/gputel/passwd}"
case "$host" in
  *[!A-Za-z0-9._-]* | [._-]*) echo "add-agent.sh: '$host' is not a valid host id" >&2; exit 64 ;;
esac
password="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32)"
[ -f "$file" ] || { install -m 0640 -o root -g mosquitto /dev/null "$file"; }
mosquitto_passwd -b "$file" "$host" "$password"
# Mosquitto rereads the password file and ACL on SIGHUP.
if command -v systemctl >/dev/null 2>&1; then systemctl reload mosquitto 2>/dev/null || true; fi
printf '%s\n' "$password"
