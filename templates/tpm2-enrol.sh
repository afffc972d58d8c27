#!/bin/sh
# Managed by koffer — changes are overwritten
#
# koffer-tpm2-enrol: TPM2+PIN enrolment at the first boot of a laptop provisioned as an
# offline image (no TPM was reachable at provisioning; sealing to the build host's TPM would
# make a key the laptop can never unseal).
#
# For each volume in the config (lines "NAME DEVICE PCRS", e.g. "cryptroot
# /dev/disk/by-uuid/… 7"), on the console through systemd-ask-password:
#   1. ask the technician's current passphrase; prove which keyslot it opens
#      (cryptsetup open --test-passphrase; a recovery-key slot is refused as "the wrong key");
#   2. ask a new PIN twice;
#   3. systemd-cryptenroll --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=PCRS
#      (a token a previous, interrupted run left is wiped first: its PIN was never proven);
#   4. prove the new token: cryptsetup open --test-passphrase --token-only --token-id=ID gets
#      the PIN on stdin, the systemd-tpm2 token plugin unseals the key in the TPM (PCR policy
#      + PIN) and cryptsetup checks it against the volume key digest — the same plugin and
#      the same unseal the initrd's systemd-cryptsetup uses, without activating anything;
#   5. wipe the keyslot(s) the technician's passphrase opens (cryptsetup luksRemoveKey) — never a recovery-key slot,
#      never the token's slot, never without a recovery key in the header (then the
#      passphrase stays: it would otherwise be the only way in besides the TPM);
# then write the marker (the unit's ConditionPathExists=! never starts it again).
#
# Interrupted (power loss, Ctrl-C): every step leaves a header that still opens with the
# technician's passphrase until step 4 proved the token, so the next boot simply runs again
# (asking passphrase and PIN again; the old token is removed, a new one enrolled). After step 5 the passphrase
# no longer opens anything: a header that already has a proven-shape TPM2+PIN token, a
# recovery slot and no other keyslot counts as done without asking.
#
# Secrets: only in shell variables. To cryptsetup through a pipe. To systemd-cryptenroll
# through systemd's ask-password protocol, answered by this script (never $PASSWORD/$NEWPIN:
# a child's environment is readable in /proc/PID/environ): the script runs in a private mount
# namespace, and for each systemd-cryptenroll a private tmpfs covers
# /run/systemd/ask-password, so only this script sees the tool's questions (the console agent
# would show them to the technician too); each question of that PID is answered once through
# systemd-reply-password's stdin. Never argv, never a file. Messages go to stderr; the unit
# sends them to the journal with SYSLOG_IDENTIFIER=koffer-tpm2-enrol and to the console.
#
# Options (for tests and manual use; the unit uses the defaults):
#   --config FILE      volumes (default /etc/koffer/tpm2-enrol.conf)
#   --state-dir DIR    marker and failure note (default /var/lib/koffer)
#   --tpm2-device DEV  TPM for systemd-cryptenroll (default auto)
# Exit: 0 done (or nothing to do), 1 failed (the unit fails, the next boot tries again).

set -u
umask 077
export LC_ALL=C

# Before any secret is read: into a private mount namespace (see "Secrets" above).
if [ "${KOFFER_TPM2_ENROL_NS:-}" != 1 ]; then
  KOFFER_TPM2_ENROL_NS=1 exec unshare --mount --propagation private -- /bin/sh "$0" "$@"
fi
unset KOFFER_TPM2_ENROL_NS

config=/etc/koffer/tpm2-enrol.conf
state_dir=/var/lib/koffer
tpm2_device=auto
min_pin=6

while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --state-dir) state_dir=$2; shift 2 ;;
    --tpm2-device) tpm2_device=$2; shift 2 ;;
    *) echo "koffer-tpm2-enrol: unknown argument $1" >&2; exit 64 ;;
  esac
done

marker=$state_dir/tpm2-enrolled
failed_note=$state_dir/tpm2-enrol.failed
pass=''
pin=''
pin2=''

say() { echo "koffer-tpm2-enrol: $*" >&2; }

forget() { pass=''; pin=''; pin2=''; }

fail() {
  say "FEHLER/ERROR: $*"
  mkdir -p "$state_dir"
  # One line, no secret: the disk gatherer shows it as DISK-04 evidence.
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >"$failed_note.tmp" &&
    mv -f "$failed_note.tmp" "$failed_note"
  forget
  exit 1
}

trap 'forget; say "unterbrochen/interrupted"; exit 130' INT TERM HUP

ask_dir=/run/systemd/ask-password
reply=/usr/lib/systemd/systemd-reply-password
[ -x "$reply" ] || reply=/lib/systemd/systemd-reply-password

# cryptenroll ARGS… → systemd-cryptenroll's exit code; its questions answered from $pass
# ("current passphrase") and $pin ("TPM2 PIN", asked twice), only for its own PID.
cryptenroll() {
  mkdir -p "$ask_dir" && mount -t tmpfs -o mode=0755,size=1m koffer-ask "$ask_dir" ||
    fail "ask-password: privates Verzeichnis/private directory"
  systemd-cryptenroll "$@" </dev/null >&2 &
  cpid=$!
  answered=''
  # A zombie still answers kill -0: its state in /proc/PID/stat (after the ") ") tells.
  while [ -e "/proc/$cpid" ] && [ "$(sed 's/.*) //' "/proc/$cpid/stat" 2>/dev/null | cut -c1)" != Z ]; do
    for q in "$ask_dir"/ask.*; do
      [ -f "$q" ] || continue
      case " $answered " in *" $q "*) continue ;; esac
      [ "$(sed -n 's/^PID=//p' "$q")" = "$cpid" ] || continue
      sock=$(sed -n 's/^Socket=//p' "$q")
      case "$sock" in "$ask_dir"/*) ;; *) continue ;; esac
      case "$(sed -n 's/^Message=//p' "$q")" in
        *"TPM2 PIN"*) printf '%s' "$pin" | "$reply" 1 "$sock" ;;
        *"current passphrase"*) printf '%s' "$pass" | "$reply" 1 "$sock" ;;
        *) continue ;;
      esac
      answered="$answered $q"
    done
    sleep 0.1
  done
  wait "$cpid"
  rc=$?
  umount "$ask_dir"
  return "$rc"
}

ask() { # ask ID MESSAGE → the answer on stdout
  systemd-ask-password --timeout=0 --id="koffer-tpm2-enrol:$1" "$2"
}

# The header as lines: "slot N", "token ID TYPE PIN PCRS SLOTS" (PCRS/SLOTS joined by +).
header() {
  cryptsetup luksDump "$1" | awk '
    /^Keyslots:/ { sec = "k"; next }
    /^Tokens:/ { flush(); sec = "t"; next }
    /^[A-Z][A-Za-z ]*:/ { flush(); sec = ""; next }
    sec == "k" && /^  [0-9]+: / { sub(":", "", $1); print "slot " $1; next }
    sec == "t" && /^  [0-9]+: / { flush(); sub(":", "", $1); id = $1; type = $2; pin = "-"; pcrs = "-"; slots = ""; next }
    sec == "t" && /^\ttpm2-hash-pcrs:/ { pcrs = $2 }
    sec == "t" && /^\ttpm2-pcrs:/ { pcrs = $2 }
    sec == "t" && /^\ttpm2-pin:/ { pin = $2 }
    sec == "t" && /^\tKeyslot:/ { slots = (slots == "" ? $2 : slots "+" $2) }
    function flush() { if (id != "") print "token " id " " type " " pin " " pcrs " " (slots == "" ? "-" : slots); id = "" }
    END { flush() }'
}

has_all_pcrs() { # has_all_pcrs HAVE WANT (both "7+11" style)
  for p in $(echo "$2" | tr '+,' '  '); do
    case "+$1+" in *"+$p+"*) ;; *) return 1 ;; esac
  done
  return 0
}

# Slots claimed by tokens of the given types (space separated).
slots_of() { # slots_of HEADER TYPE...
  h=$1; shift
  for t in "$@"; do
    echo "$h" | awk -v t="$t" '$1 == "token" && $3 == t && $6 != "-" { gsub("\\+", " ", $6); print $6 }'
  done | tr '\n' ' '
}

in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

# The keyslot a secret on stdin opens, or nothing.
opened_slot() { # opened_slot DEVICE [cryptsetup options…] < secret
  d=$1; shift
  cryptsetup open --test-passphrase -v "$@" "$d" 2>/dev/null |
    sed -n 's/^Key slot \([0-9][0-9]*\) unlocked\.$/\1/p' | head -n 1
}

good_token() { # good_token HEADER PCRS → id of a systemd-tpm2 token with PIN and the PCRs
  echo "$1" | while read -r kind id type tpin tpcrs tslots; do
    [ "$kind" = token ] && [ "$type" = systemd-tpm2 ] && [ "$tpin" = true ] || continue
    has_all_pcrs "$tpcrs" "$2" && { echo "$id"; break; }
  done
}

enrol_volume() { # enrol_volume NAME DEVICE PCRS
  name=$1 dev=$2 pcrs=$3
  [ -e "$dev" ] || fail "$name: $dev nicht gefunden/not found"
  cryptsetup isLuks --type luks2 "$dev" || fail "$name: $dev ist kein LUKS2-Datenträger/is not a LUKS2 volume"
  h=$(header "$dev") || fail "$name: cryptsetup luksDump $dev"
  recovery=$(slots_of "$h" systemd-recovery koffer-recovery)
  tpm2=$(slots_of "$h" systemd-tpm2)
  others=$(echo "$h" | awk '$1 == "slot" { print $2 }' | while read -r s; do
    in_list "$s" "$recovery $tpm2" || printf '%s ' "$s"
  done)
  if [ -n "$(good_token "$h" "$pcrs")" ] && [ -n "$(echo "$recovery" | tr -d ' ')" ] &&
    [ -z "$(echo "$others" | tr -d ' ')" ]; then
    say "$name: TPM2+PIN bereits registriert, keine Passphrase mehr/already enrolled, no passphrase slot left"
    return 0
  fi

  say "$name: TPM2+PIN-Registrierung beginnt/enrolment starts (PCR $pcrs)"
  tries=0 slot=''
  while [ -z "$slot" ]; do
    tries=$((tries + 1))
    [ "$tries" -le 3 ] || fail "$name: Passphrase dreimal falsch/passphrase wrong three times"
    pass=$(ask "$name-passphrase" "koffer: Aktuelle Passphrase des Technikers für $name (technician passphrase):") ||
      fail "$name: keine Eingabe/no answer"
    slot=$(printf '%s' "$pass" | opened_slot "$dev" --key-file=-)
    if [ -z "$slot" ]; then
      say "$name: Passphrase falsch/wrong passphrase"
    elif in_list "$slot" "$recovery"; then
      say "$name: das ist der Wiederherstellungsschlüssel, bitte die Passphrase des Technikers/that is the recovery key, type the technician passphrase"
      slot=''
    fi
  done

  tries=0
  while :; do
    tries=$((tries + 1))
    [ "$tries" -le 3 ] || fail "$name: keine gültige PIN/no valid PIN"
    pin=$(ask "$name-pin" "koffer: Neue TPM-PIN für $name, mindestens $min_pin Zeichen (new TPM PIN, at least $min_pin characters):") ||
      fail "$name: keine Eingabe/no answer"
    pin2=$(ask "$name-pin-repeat" "koffer: Neue TPM-PIN wiederholen (repeat new TPM PIN):") ||
      fail "$name: keine Eingabe/no answer"
    if [ "${#pin}" -lt "$min_pin" ]; then
      say "$name: PIN zu kurz/PIN too short"
    elif [ "$pin" != "$pin2" ]; then
      say "$name: PINs verschieden/PINs differ"
    else
      break
    fi
  done
  pin2=''

  if [ -n "$(echo "$tpm2" | tr -d ' ')" ]; then
    # A token an interrupted run left (its PIN unproven): systemd-cryptenroll would keep a
    # token with the same PCRs ("already enrolled") instead of enrolling the new PIN. The
    # passphrase slot just proven stays, so removing the token first never locks anyone out.
    cryptenroll --wipe-slot=tpm2 "$dev" ||
      fail "$name: altes systemd-tpm2-Token nicht entfernt/old token not removed"
    say "$name: Token eines unterbrochenen Laufs entfernt/token of an interrupted run removed"
  fi
  cryptenroll --tpm2-device="$tpm2_device" --tpm2-with-pin=yes --tpm2-pcrs="$pcrs" "$dev" ||
    fail "$name: systemd-cryptenroll fehlgeschlagen/failed"

  h=$(header "$dev") || fail "$name: cryptsetup luksDump $dev"
  token=$(good_token "$h" "$pcrs")
  [ -n "$token" ] || fail "$name: kein systemd-tpm2-Token nach der Registrierung/no token after enrolment"
  token_slot=$(echo "$h" | awk -v id="$token" '$1 == "token" && $2 == id { print $6 }')
  proved=$(printf '%s' "$pin" | opened_slot "$dev" --token-only --token-id="$token")
  [ -n "$proved" ] && [ "$proved" = "$token_slot" ] ||
    fail "$name: neues Token öffnet den Datenträger nicht, Passphrase bleibt/new token does not open the volume, passphrase kept"
  pin=''
  say "$name: Token $token (Schlüsselplatz/keyslot $token_slot) mit PIN geprüft/proven with the PIN"

  if [ -z "$(echo "$recovery" | tr -d ' ')" ]; then
    say "$name: kein Wiederherstellungsschlüssel im Header, Passphrase bleibt/no recovery key in the header, passphrase kept"
    pass=''
    return 0
  fi
  # Every slot the passphrase opens (a copy in two slots is wiped twice), never the token's
  # or a recovery slot, never the last one.
  while [ -n "$slot" ]; do
    if in_list "$slot" "$recovery $token_slot"; then
      fail "$name: Passphrase öffnet Schlüsselplatz $slot, der nicht gelöscht werden darf/opens slot $slot that must stay"
    fi
    count=$(cryptsetup luksDump "$dev" | awk '/^Keyslots:/ { k = 1; next } /^[A-Z]/ { k = 0 } k && /^  [0-9]+: / { n++ } END { print n + 0 }')
    [ "$count" -gt 1 ] || fail "$name: letzter Schlüsselplatz/last keyslot"
    # luksRemoveKey removes the slot this very passphrase opens (luksKillSlot would want the
    # passphrase of another slot, which nobody at the device has).
    printf '%s' "$pass" | cryptsetup luksRemoveKey --batch-mode --key-file=- "$dev" >&2 ||
      fail "$name: luksRemoveKey (Schlüsselplatz/keyslot $slot) fehlgeschlagen/failed"
    say "$name: Passphrase des Technikers entfernt/technician passphrase removed (keyslot $slot)"
    slot=$(printf '%s' "$pass" | opened_slot "$dev" --key-file=-)
  done
  pass=''
}

if [ -e "$marker" ]; then
  say "bereits erledigt/already done ($marker)"
  exit 0
fi
[ -r "$config" ] || fail "$config fehlt/missing"

# Read the config first (fd 3), so the prompts' own stdin stays untouched.
volumes=$(grep -v '^[[:space:]]*\(#\|$\)' "$config")
[ -n "$volumes" ] || fail "$config: keine Datenträger/no volumes"
done_list=''
while read -r name dev pcrs rest <&3; do
  [ -n "$name" ] && [ -n "$dev" ] && [ -n "$pcrs" ] && [ -z "$rest" ] ||
    fail "$config: Zeile/line '$name $dev $pcrs $rest' ungültig/invalid"
  enrol_volume "$name" "$dev" "$pcrs"
  done_list="$done_list $name"
done 3<<EOF
$volumes
EOF

mkdir -p "$state_dir"
printf '%s%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$done_list" >"$marker.tmp" && sync &&
  mv -f "$marker.tmp" "$marker" && sync || fail "Markierung/marker $marker"
rm -f "$failed_note"
say "TPM2+PIN registriert/enrolled:$done_list"
exit 0
