#!/usr/bin/env bash
# Install what koffer's tests and demo need on a fresh Debian 12 machine, then the npm dependencies.
# Safe to run again: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cryptsetup-bin    # LUKS image files: luksFormat, luksDump, luksConvertKey
  usbguard          # usbguard-rule-parser, the daemon koffer configures
  debootstrap       # real Debian 12 roots for verify/provision tests and the demo
  swtpm swtpm-tools # a software TPM for TPM2+PIN enrolment tests
  tpm2-tools
  libxml2-utils     # xmllint: JUnit XML against its XSD
  chromium          # headless rendering of the HTML report and PDF output
  umockdev          # a fake USB sysfs for allowlist tests
  nftables
  iproute2          # ip netns, veth and dummy links of the VPN tunnel rig (test/rig/vpn-*)
  openssh-server openssh-client # a real sshd on loopback for the ssh target
  lynis             # the benchmark's point of comparison
  openssl
  fdisk
  systemd           # systemctl --root: unit states of root trees (gatherer, laptop fixtures)
  systemd-container # systemd-nspawn: the running-laptop rig boots provisioned roots (test/rig/)
  libtss2-tcti-swtpm0 # systemd-cryptenroll --tpm2-device=swtpm:… (TPM2+PIN against swtpm)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Keep services from starting: a package's postinst must not start sshd or usbguard here.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
