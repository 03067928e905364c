#!/usr/bin/env bash
# Puts Tandem's build dependencies, as files, into one folder, on a machine that has a package
# registry (Debian 12, like Tandem's CPU machines), for a GPU host that has PyTorch but no
# registry: carry the folder there and run tools/gpu/check.sh FOLDER (see tools/gpu/README.md).
#
#   tools/gpu/bundle.sh OUT_DIR                  # the Debian packages (a few MB)
#   tools/gpu/bundle.sh --with-torch OUT_DIR     # ... and PyPI's pinned torch with its CUDA wheels
#                                                #     (about 3.5 GB), for a host without PyTorch
# Options: --python-version X.Y (the GPU host's Python, for --with-torch; default 3.12, Ubuntu 24.04's).
#
# OUT_DIR/debs/*.deb    fetched with `apt-get download` (no root needed; unpacked on the host with
#                       dpkg -x, no root needed there either)
# OUT_DIR/wheels/*.whl  with --with-torch: `pip download` of tools/torch2-requirements.txt's pin
# OUT_DIR/manifest.tsv  every file: kind, name, version, architecture, sha256, file
# Exit 0 when everything was fetched and checked, 1 otherwise, 2 on bad arguments.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# What building Tandem needs beyond a compiler, CMake and the LibTorch inside PyTorch. The -dev
# packages bring headers, CMake package files and link-time .so links; the two runtime packages
# are what those links point to. gtest/gmock are static libraries; CLI11 and nlohmann-json are
# header-only. zlib's and OpenSSL's runtimes (libz.so.1, libcrypto.so.3) are on every host already:
# check.sh points the -dev links at the host's copies instead of carrying second ones. ninja-build: PyTorch hosts often lack it
# (check.sh falls back to make without it).
packages=(
  libyaml-cpp-dev libyaml-cpp0.7
  libfmt-dev libfmt9
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  zlib1g-dev
  libssl-dev    # OpenSSL's headers, for the store's HMAC-SHA256 admission
  libgloo-dev   # c10d's Gloo headers (LibTorch's wheel ships none)
  ninja-build
)

with_torch=0 python_version=3.12 out=""
while (($#)); do
  case $1 in
    --with-torch) with_torch=1; shift ;;
    --python-version) python_version=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "[bundle] unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "[bundle] one OUT_DIR only, got '$out' and '$1'" >&2; exit 2; }; out=$1; shift ;;
  esac
done
[ -n "$out" ] || { echo "usage: tools/gpu/bundle.sh [--with-torch] [--python-version X.Y] OUT_DIR" >&2; exit 2; }
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
  echo "[bundle] needs apt-get and dpkg-deb: run it on a Debian 12 machine with a package registry" >&2; exit 2; }

. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "[bundle] warning: this is ${PRETTY_NAME:-an unknown system}, not Debian 12; the runtime package names" \
       "(libyaml-cpp0.7, libfmt9) are Debian 12's, and apt-get will say which one it lacks" >&2
fi

mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
start=$(date +%s)

# The registry's own checksums, to check what arrives against.
declare -A expected
uris=$(apt-get download --print-uris "${packages[@]}" 2>&1) || {
  echo "[bundle] apt-get cannot resolve the packages (run apt-get update as root first?):" >&2
  echo "$uris" >&2; exit 1; }
while read -r _ file _ sum; do
  [ -n "${file:-}" ] && expected[$file]=${sum#SHA256:}
done < <(grep "^'" <<<"$uris")

echo "[bundle] apt-get download ${#packages[@]} packages into $out/debs/"
(cd "$out/debs" && apt-get download -q "${packages[@]}")

status=0 checked=0
manifest=$out/manifest.tsv
{
  echo "# Tandem's build dependencies for an offline GPU host; made $(date -u +%FT%TZ) on ${PRETTY_NAME:-?}"
  echo "# by tools/gpu/bundle.sh at Tandem commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "# On the GPU host, from Tandem's source tree: tools/gpu/check.sh <this folder> (it checks every sha256 first)."
  printf 'kind\tname\tversion\tarchitecture\tsha256\tfile\n'
} > "$manifest"
for p in "${packages[@]}"; do
  f=$(cd "$out/debs" && ls -t "${p}"_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then echo "[bundle] missing: $p" >&2; status=1; continue; fi
  sum=$(sha256sum "$out/debs/$f" | cut -d' ' -f1)
  if [ -z "${expected[$f]:-}" ]; then
    echo "[bundle] warning: the registry listed no sha256 for $f" >&2
  elif [ "${expected[$f]}" != "$sum" ]; then
    echo "[bundle] $f: sha256 $sum, but the registry says ${expected[$f]}" >&2; status=1
  else
    checked=$((checked + 1))
  fi
  printf 'deb\t%s\t%s\t%s\t%s\t%s\n' "$(dpkg-deb -f "$out/debs/$f" Package)" "$(dpkg-deb -f "$out/debs/$f" Version)" \
    "$(dpkg-deb -f "$out/debs/$f" Architecture)" "$sum" "debs/$f" >> "$manifest"
done

if [ "$with_torch" = 1 ]; then
  pin=$(grep -v '^#' "$root/tools/torch2-requirements.txt" 2>/dev/null | tr -d '[:space:]' || true)
  pin=${pin:-torch==2.11.0}
  pip=(python3 -m pip)
  "${pip[@]}" --version >/dev/null 2>&1 || { echo "[bundle] --with-torch needs pip (python3 -m pip)" >&2; exit 1; }
  mkdir -p "$out/wheels"
  # torch's CUDA libraries (cuDNN, NCCL, cuBLAS ...) are wheels of their own: without them torch
  # does not import, so its dependencies come too. Wheels for the GPU host's Python, not this one.
  echo "[bundle] pip download $pin and its dependencies for Python $python_version, manylinux x86_64"
  # pip takes a wheel only if one of its platform tags is listed: every manylinux_2_N up to the
  # glibc of Ubuntu 24.04 (2.39); manylinux2014 also admits manylinux2010 and manylinux1.
  platforms=(--platform manylinux2014_x86_64)
  for n in $(seq 5 39); do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
  "${pip[@]}" download -q --dest "$out/wheels" --only-binary=:all: --python-version "$python_version" \
    --implementation cp "${platforms[@]}" "$pin" || status=1
  for f in "$out"/wheels/*.whl; do
    [ -e "$f" ] || continue
    base=$(basename "$f")
    IFS=- read -r name version _ <<<"$base"
    printf 'wheel\t%s\t%s\t%s\t%s\t%s\n' "$name" "$version" "${base##*-}" "$(sha256sum "$f" | cut -d' ' -f1)" \
      "wheels/$base" >> "$manifest"
  done
fi

echo "[bundle] $(grep -c -v -e '^#' -e '^kind' "$manifest") files ($checked .deb matched the registry's sha256)," \
     "$(du -sh "$out" | cut -f1), in $(( $(date +%s) - start )) s; manifest: $manifest"
[ "$status" = 0 ] || echo "[bundle] FAILED: see the messages above" >&2
exit "$status"
