#!/bin/bash
# Debian 12's udev (systemd 252) has no `udevadm verify`, which the install
# test "udevadm verify accepts the rules" needs. This fetches udev from
# bookworm-backports (systemd >= 253) into a private directory — nothing on
# the system is installed or upgraded, the system's apt configuration is not
# touched — and prints the path of a wrapper that runs it, for
# MDEVCTL_TEST_UDEVADM:
#
#   export MDEVCTL_TEST_UDEVADM=$(bash tests/install/fetch_udevadm.sh DIR)
#
# DIR (default /tmp/mdevctl-udevadm) is reused when it already holds one.
set -euo pipefail
dir=${1:-/tmp/mdevctl-udevadm}
wrapper=$dir/udevadm
if [ -x "$wrapper" ] && "$wrapper" verify --help >/dev/null 2>&1; then
  echo "$wrapper"
  exit 0
fi
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs" "$dir/root"
# The Debian archive this machine already uses (its deb822 or one-line sources),
# with the backports suite of the same release.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' \
  /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
[ -n "$mirror" ] || { echo "fetch_udevadm: no Debian archive in the apt sources" >&2; exit 1; }
echo "deb ${mirror%/} bookworm-backports main" >"$dir/sources.list"
apt=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
  -o APT::Sandbox::User=root)
apt-get "${apt[@]}" update >/dev/null
version=$(apt-cache "${apt[@]}" madison udev | awk '/bookworm-backports/ { print $3; exit }')
[ -n "$version" ] || { echo "fetch_udevadm: no udev in bookworm-backports" >&2; exit 1; }
(cd "$dir/debs" && apt-get "${apt[@]}" download \
  "udev=$version" "systemd=$version" "libsystemd-shared=$version" >/dev/null)
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
bin=$(find "$dir/root" -path '*bin/udevadm' -type f | head -n 1)
lib=$(dirname "$(find "$dir/root" -name 'libsystemd-shared-*.so' | head -n 1)")
cat >"$wrapper" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$lib' exec '$bin' "\$@"
EOF
chmod 755 "$wrapper"
"$wrapper" verify --help >/dev/null
echo "$wrapper"
