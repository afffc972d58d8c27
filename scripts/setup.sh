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
  poppler-utils     # pdfinfo and pdftoppm: the report's PDF checked page by page in the tests
  umockdev          # a fake USB sysfs for allowlist tests
  nftables
  openssh-server openssh-client # a real sshd on loopback for the ssh target
  openssh-sftp-server # the SFTP server the ssh target reads and writes files through
  sudo              # the ssh target's `sudo -n` when the login is not root (and its tests)
  iproute2          # ip netns, veth, dummy links and tc netem: the rigs' own test networks
  ansible-core      # the fleet collection (ansible/) runs koffer per inventory host
  lynis             # the benchmark's point of comparison
  openssl
  fdisk
  systemd           # systemctl --root: unit states of root trees (gatherer, laptop fixtures)
  dconf-cli         # dconf compile: provisioning compiles an image's GNOME settings database
  systemd-container # systemd-nspawn: an image's apt-get and dpkg run in a container; the rig boots provisioned roots
  libtss2-tcti-swtpm0 # systemd-cryptenroll --tpm2-device=swtpm:… (TPM2+PIN against swtpm)
  qemu-system-x86 qemu-utils # the laptop VM (TCG where there is no KVM): Secure Boot, TPM, USB bus
  ovmf              # UEFI firmware with Microsoft's keys enrolled (OVMF_VARS_4M.ms.fd): Secure Boot
  mtools dosfstools # the VM disk's EFI system partition, built without mounting anything
  zstd xz-utils     # initrd inspection: decompress a target's initramfs on the host (no code of it runs)
  cpio              # the tests' second opinion on koffer's own initrd lister (cpio -t)
  tcpdump           # the kill-switch proof captures on the host side of the VM's link
  socat             # the first-boot enrolment test: a pty standing in for /dev/tpmrm0, relayed to swtpm
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
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  echo "setup: apt-get update …" >&2
  apt-get update -qq
  # Keep services from starting: a package's postinst must not start sshd or usbguard here.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  # One plain line per download and per package set up, so a long install is never silent.
  apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" |
    grep --line-buffered -E '^(Get:|Setting up )' | sed -u 's/^/setup: /' >&2 || true
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
      { echo "setup: $p did not install" >&2; exit 2; }
  done
  rm -f /usr/sbin/policy-rc.d
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
