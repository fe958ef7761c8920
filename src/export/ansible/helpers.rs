//! The shell helper the Linux steps copy to each node (one file, one copy per run): safe apply of
//! an nftables file, and the fingerprint that makes a second run change nothing.

use crate::export::nftables::TABLE;

/// `bash fwtopo-ansible.sh nft-apply FILE`: checks FILE, keeps our table as it is now, arms a
/// detached timer that puts it back, loads FILE, and keeps it only when `$FWTOPO_CONFIRM_FILE`
/// appears within `$FWTOPO_CONFIRM_SECONDS` (made from a new connection); otherwise it puts the old
/// table back and exits 3. The timer covers a killed script.
/// `bash fwtopo-ansible.sh show|record FIREWALL SCRIPT`: `show` prints the fingerprint now (the
/// script's hash and the live rules' hash) and, on a second line, the one recorded after the last
/// confirmed apply; `record` records the one now.
pub fn render() -> String {
    let mut s = String::from(HEAD);
    s.push_str(NFT_APPLY);
    s.push_str(STATE);
    s.push_str(MAIN);
    s.replace("__TABLE__", TABLE)
}

const HEAD: &str = r#"#!/bin/bash
# fwtopo: the helper of the Ansible rollout (site.yml) on a Linux node.
#   FWTOPO_CONFIRM_FILE=PATH FWTOPO_CONFIRM_SECONDS=60 bash fwtopo-ansible.sh nft-apply NODE.nftables.nft
#     Checks the file (nft -c), keeps table inet __TABLE__ as it is now, arms a detached timer that
#     puts it back, loads the file, writes PATH.waiting and keeps the new table only when PATH
#     appears within the window (made from a NEW connection: proof that the way in still works).
#     Otherwise the old table comes back and the exit status is 3. The timer puts it back even if
#     this script is killed.
#   bash fwtopo-ansible.sh show|record FIREWALL SCRIPT
#     The fingerprint: the script's hash and the hash of the live rules (our nftables table; the
#     filter tables for the iptables-based firewalls; the zones for firewalld), counters left out.
#     show: the fingerprint now, then the one recorded after the last confirmed apply (if any).
#     record: records the fingerprint now, next to the script.
set -euo pipefail
umask 077
say() { printf 'fwtopo: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
"#;

const NFT_APPLY: &str = r#"
nft_apply() {
FILE=${1:-}
[ -n "$FILE" ] && [ -f "$FILE" ] || die "usage: bash $0 nft-apply NODE.nftables.nft"
CONFIRM=${FWTOPO_CONFIRM_FILE:-}
[ -n "$CONFIRM" ] || die "FWTOPO_CONFIRM_FILE is not set: where the confirmation will appear"
SECONDS_TO_CONFIRM=${FWTOPO_CONFIRM_SECONDS:-60}
case "$SECONDS_TO_CONFIRM" in ''|*[!0-9]*|0) die "FWTOPO_CONFIRM_SECONDS must be a whole number of seconds above 0" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root"

STATE_DIR=$(dirname "$FILE")
PREV="$STATE_DIR/nftables-previous.nft"
TIMER="$STATE_DIR/nftables-timer.pid"

nft -c -f "$FILE" || die "nft -c rejected $FILE: nothing changed"
rm -f "$CONFIRM" "$CONFIRM.waiting"
# Our table as it is now (none: the restore creates and deletes it, so it is gone again).
{ echo 'table inet __TABLE__ {}'; echo 'delete table inet __TABLE__'; nft list table inet __TABLE__ 2>/dev/null || :; } > "$PREV.new"
mv -f "$PREV.new" "$PREV"

disarm() {
  local pid
  pid=$(cat "$TIMER" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]]; then kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; fi
  rm -f "$TIMER"
}
disarm
# The timer is not our child (setsid -f): it outlives a killed script and a dropped connection.
rm -f "$TIMER"
setsid -f bash -c 'echo $$ > "$1"; sleep "$2"; [ -e "$3" ] || { nft -f "$4" && echo "fwtopo: not confirmed: the previous table is back" >&2; }; rm -f "$1"' \
  fwtopo-timer "$TIMER" "$((SECONDS_TO_CONFIRM + 5))" "$CONFIRM" "$PREV" </dev/null >>"$STATE_DIR/rollback.log" 2>&1
for _ in $(seq 1 50); do [ -s "$TIMER" ] && break; sleep 0.1; done

if ! nft -f "$FILE"; then
  disarm
  nft -f "$PREV" || say "putting the previous table back failed: nft -f $PREV"
  die "nft -f $FILE failed: the previous table is back"
fi
say "new table active: waiting up to ${SECONDS_TO_CONFIRM}s for $CONFIRM (made from a new connection)"
: > "$CONFIRM.waiting"
for _ in $(seq 1 $((SECONDS_TO_CONFIRM * 5))); do
  [ -e "$CONFIRM" ] && break
  sleep 0.2
done
if [ -e "$CONFIRM" ]; then
  disarm
  rm -f "$CONFIRM" "$CONFIRM.waiting"
  say "confirmed: kept. To roll back by hand: nft -f $PREV"
  exit 0
fi
disarm
rm -f "$CONFIRM.waiting"
nft -f "$PREV" || die "not confirmed, and putting the previous table back failed: nft -f $PREV"
say "not confirmed within ${SECONDS_TO_CONFIRM}s: the previous table is back"
exit 3
}
"#;

const STATE: &str = r#"
fingerprint() {
MODE=$1 FIREWALL=${2:-} SCRIPT=${3:-}
[ -f "$SCRIPT" ] || { echo "usage: bash $0 show|record FIREWALL SCRIPT" >&2; exit 2; }
RECORD="$SCRIPT.applied"

live() {
  case "$FIREWALL" in
    nftables) nft list table inet __TABLE__ 2>/dev/null || true ;;
    firewalld) firewall-cmd --list-all-zones 2>/dev/null || true ;;
    *) { iptables-save -t filter 2>/dev/null || true; ip6tables-save -t filter 2>/dev/null || true; } | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$//' || true ;;
  esac
}
NOW="$(sha256sum < "$SCRIPT" | cut -d' ' -f1) $(live | sha256sum | cut -d' ' -f1)"
case "$MODE" in
  show) printf '%s\n' "$NOW"; cat "$RECORD" 2>/dev/null || true ;;
  record) printf '%s\n' "$NOW" > "$RECORD" ;;
esac
}
"#;

const MAIN: &str = r#"
case "${1:-}" in
  nft-apply) shift; nft_apply "$@" ;;
  show|record) fingerprint "$@" ;;
  *) echo "usage: bash $0 nft-apply FILE | show|record FIREWALL SCRIPT" >&2; exit 2 ;;
esac
"#;
