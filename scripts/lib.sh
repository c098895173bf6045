# Shared by scripts/demo and scripts/test: install what is missing, configure, build.
# Sourced, not run.
set -euo pipefail

SLEET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SLEET_PACKAGES=(cmake ninja-build g++ clang-14 libclang-rt-14-dev ccache pkg-config
                libboost1.81-dev tao-json-dev libssl-dev googletest libgtest-dev libbenchmark-dev
                postgresql-15 postgresql-client-15 util-linux)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

sleet_install_deps() {
  local missing=()
  for p in "${SLEET_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  log "installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "error: missing packages (${missing[*]}) and not root; install them and retry" >&2; exit 1; fi
  fi
  # libboost1.81-dev conflicts with the default libboost-dev (1.74): remove that first if present.
  if dpkg-query -W -f='${Status}' libboost1.74-dev 2>/dev/null | grep -q 'install ok installed'; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q libboost1.74-dev >&2
  fi
  $sudo apt-get update -q >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# sleet_build <build-dir> <cmake args...> -- <targets...>
sleet_build() {
  local dir="$1"; shift
  local args=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  targets=("$@")
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  # Hits across clones in other folders (CI clones afresh): paths under the root are hashed
  # relative to it, and the working directory is not part of the hash.
  export CCACHE_BASEDIR="$SLEET_ROOT"
  export CCACHE_NOHASHDIR=true
  if [ ! -f "$dir/build.ninja" ]; then
    log "configuring $dir"
    cmake -S "$SLEET_ROOT" -B "$dir" -G Ninja "${args[@]}" >&2
  else
    cmake "$dir" "${args[@]}" >/dev/null
  fi
  log "building $dir ${targets[*]:-(all)}"
  local jobs="${SLEET_JOBS:-$(nproc)}"
  if [ ${#targets[@]} -gt 0 ]; then
    cmake --build "$dir" -j "$jobs" --target "${targets[@]}" >&2
  else
    cmake --build "$dir" -j "$jobs" >&2
  fi
}
