#!/usr/bin/env bash
# Evidence for issue 13: can any Debian 13 strongSwan package do ML-KEM in IKEv2?
# Copies the cached Debian 13 root (never writes the cache), asks every trixie suite
# (trixie, -updates, -backports, -security) for strongSwan, installs all plugin packages,
# reads the source package's build flags and runs charon to print `swanctl --list-algs`.
# Output: test/fixtures/trixie-mlkem/probe-output.txt (kept in git as the test fixture).
# Needs root, systemd-nspawn and the Debian mirror; about one minute.
set -euo pipefail
cd "$(dirname "$0")/.."
root_src=$(node --input-type=module -e '
  const { debianRootPath } = await import("./dist/demo/debian-root.js");
  console.log(debianRootPath({ release: "debian-13" }));')
[ -f "$root_src/var/lib/dpkg/status" ] || { echo "no cached Debian 13 root at $root_src" >&2; exit 1; }
work=$(mktemp -d /var/tmp/kof-mlkem-probe-XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT INT TERM
cp -a --reflink=auto "$root_src" "$work/root"
out=test/fixtures/trixie-mlkem/probe-output.txt
nspawn() {
  systemd-nspawn --directory="$work/root" --register=no --keep-unit --as-pid2 --pipe \
    --link-journal=no --timezone=off --setenv=LC_ALL=C --setenv=DEBIAN_FRONTEND=noninteractive \
    --bind-ro="$PWD/test/fixtures/trixie-mlkem/probe.sh:/probe.sh" "$@" 2>&1 |
    grep -v '^Attempted to remove disk file system' || true
}
{
  echo "# koffer issue 13: ML-KEM in Debian 13's strongSwan packages"
  echo "# produced by scripts/probe-trixie-mlkem.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# root: copy of $root_src (debootstrap trixie, mirror $(grep -m1 -oE 'https?://[^ ]+' "$root_src/etc/apt/sources.list" || echo '?'))"
  echo "# phase 1 (host network, apt): /probe.sh apt"
  nspawn --resolv-conf=bind-host -- /bin/sh /probe.sh apt
  echo "# on the host: which OpenSSL KEM functions the installed openssl plugin imports"
  echo "# (strongSwan's ML-KEM through OpenSSL calls EVP_PKEY_encapsulate/decapsulate)"
  echo "### objdump -T usr/lib/ipsec/plugins/libstrongswan-openssl.so | grep -E 'EVP_PKEY_(en|de)capsulate|EVP_KEM'"
  objdump -T "$work/root/usr/lib/ipsec/plugins/libstrongswan-openssl.so" |
    grep -E 'EVP_PKEY_(en|de)capsulate|EVP_KEM' || echo "(none)"
  echo "### the same plugin imports OpenSSL's key agreement (proof the grep can match):"
  objdump -T "$work/root/usr/lib/ipsec/plugins/libstrongswan-openssl.so" |
    grep -oE 'EVP_PKEY_derive(_init|_set_peer)?' | sort -u
  echo "### the OpenSSL these packages run on provides ML-KEM itself: openssl list -kem-algorithms"
  nspawn --private-network --resolv-conf=off -- /usr/bin/openssl list -kem-algorithms
  echo "# phase 2 (private network, charon-systemd started by hand): /probe.sh charon"
  nspawn --private-network --resolv-conf=off -- /bin/sh /probe.sh charon
} > "$out"
echo "wrote $out"
