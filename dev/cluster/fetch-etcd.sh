#!/usr/bin/env bash
# Fetches Debian unstable's etcd-server 3.5.30 and unpacks it under the repo's ignored cache
# (.cache/etcd-<version>/), never installing it over the system's etcd (issue 17 §5). apt-get
# downloads it through a sources file and lists dir of its own in a temporary dir, so the
# system's apt sources are neither read nor changed; the .deb must match the sha256 recorded
# here. Prints the etcd binary's path on stdout; exits non-zero when the download is not possible
# (no network, no apt-get), and the caller falls back to bookworm's 3.4.23 (ensure-etcd.ts).
# Its binary needs only libc.
set -euo pipefail

VERSION=3.5.30-2
SHA256=11a4f7e350c5020b83edff5160a6063d4e56ac9cd014d21ce8916378bf96de79
SUITE=unstable
MIRROR=http://deb.debian.org/debian
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="${PAY_ETCD_CACHE_DIR:-$root/.cache}/etcd-$VERSION"
binary="$dest/usr/bin/etcd"
if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
  echo "fetch-etcd: apt-get and dpkg-deb are needed to fetch etcd-server $VERSION" >&2
  exit 1
}
[ -r "$KEYRING" ] || { echo "fetch-etcd: $KEYRING is missing (debian-archive-keyring)" >&2; exit 1; }

mkdir -p "$(dirname "$dest")"
work="$(mktemp -d "$(dirname "$dest")/.fetch-etcd.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/unpacked"
echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" >"$work/sources.list"
apt_options=(
  -q
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o Debug::NoLocking=1
  -o Acquire::Retries=2
  -o Acquire::http::Timeout=30
)
# As root, apt would hand the download to the _apt user, who cannot write our temporary dir.
[ "$(id -u)" = 0 ] && apt_options+=(-o APT::Sandbox::User=root)

echo "fetch-etcd: downloading etcd-server $VERSION from Debian $SUITE ..." >&2
apt-get "${apt_options[@]}" update >&2
(cd "$work" && apt-get "${apt_options[@]}" download "etcd-server=$VERSION" >&2)
deb="$work/etcd-server_${VERSION}_amd64.deb"
echo "$SHA256  $deb" | sha256sum --check --quiet >&2 || {
  echo "fetch-etcd: $deb does not match the recorded sha256 $SHA256" >&2
  exit 1
}
dpkg-deb -x "$deb" "$work/unpacked"
"$work/unpacked/usr/bin/etcd" --version >&2
# A rename, so that a concurrent fetch (parallel test files) never sees a half-unpacked dir.
mv -T "$work/unpacked" "$dest" 2>/dev/null || [ -x "$binary" ]
echo "$binary"
