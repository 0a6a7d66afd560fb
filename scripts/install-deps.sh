#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12: system packages, then npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  qemu-system-x86 qemu-system-common  # QEMU, and /usr/lib/qemu/qemu-bridge-helper to compare against
  linux-image-amd64 busybox-static    # the tiny test guest
  iproute2 util-linux libcap2-bin     # ip, unshare/setpriv/prlimit, setcap/getcap
  kmod cpio xz-utils zstd             # modinfo and packing the guest's initramfs
  gcc libc6-dev                       # the privileged exec shims are compiled by `bun run build`
  dpkg-dev lintian                    # `bun run package` (dpkg-shlibdeps, dpkg-parsechangelog) and its check
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients  # libvirt's session mode in the package test (no system daemon)
  socat                               # a reference relay in benchmarks
  pandoc                              # the man pages (man/*.md) are built to roff with pandoc's man writer
  man-db groff-base mandoc            # man --warnings -l and mandoc -T lint check the built pages
  strace                              # fault injection into the launcher's system calls in tests
  tcpdump                             # reads the relay's --pcap captures in tests
  lxc uidmap                          # LXC's lxc-user-nic (liblxc-common) to compare against, lxc-create/lxc-start and newuidmap for unprivileged containers
  rootlesskit                         # rootlesskit --net=lxc-user-nic in the container tests
  dnsmasq-base                        # DHCP on the test bridge (spoofing and container tests)
  iperf3                              # the veth benchmark (tests/bench/veth-iperf.ts)
  python3                             # a racing helper process in the tap-user-nic tests
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # An upgrade of udev re-applies its rules, which can change /dev/net/tun's mode: put it back as it was.
  tun_mode=$(stat -c %a /dev/net/tun 2>/dev/null || true)
  # No service starts during the install: lxc's postinst would start lxc-net, which puts a bridge
  # (lxcbr0) with a dnsmasq on the host, and the tests need none of it. invoke-rc.d and
  # deb-systemd-invoke ask /usr/sbin/policy-rc.d first; one that exits 101 denies every start. A
  # policy-rc.d already there is the machine's own and stays as it is.
  policy=/usr/sbin/policy-rc.d
  own_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# scripts/install-deps.sh: no service starts while it installs packages.\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$own_policy" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
  # Nor at the next boot: lxc enables lxc-net.service, which would make lxcbr0 then.
  if [[ " ${missing[*]} " == *" lxc "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --quiet lxc-net.service || true
  fi
  if [ -n "$tun_mode" ] && [ "$(stat -c %a /dev/net/tun)" != "$tun_mode" ]; then
    chmod "$tun_mode" /dev/net/tun
  fi
fi
[ -e /dev/net/tun ] || { modprobe tun 2>/dev/null || true; }

# tests/package/install.test.ts reinstalls liblxc-common inside its isolated root (LXC upgraded while
# our package diverts its lxc-user-nic) from apt's cache: download it there, installing nothing.
if ! ls /var/cache/apt/archives/liblxc-common_*.deb >/dev/null 2>&1; then
  download() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall --download-only liblxc-common >/dev/null; }
  download || { apt-get update -qq && download; }
fi

if ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
