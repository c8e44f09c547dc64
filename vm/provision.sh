#!/usr/bin/env bash
# Prepares a Debian 12 (or Ubuntu) host to build, run and validate crio-deno. Idempotent: a second
# run only checks and is quick.
#
#   K8S_MINORS   Kubernetes minors to build critest/crictl for: "1.37", "1.35 1.36", or "all".
#                Default: the default minor (DEFAULT_MINOR in src/cri/k8s_versions.ts).
#   GO           Go binary to use (default /usr/local/go/bin/go, else `go` on PATH).
#
# Steps: host packages, Deno 2.9.6 (npm), npm deps, CRI schema + generated types, critest/crictl
# (+ actionlint), /usr/local/bin/crictl, CNI plugins in /opt/cni/bin, hugetlb cgroup for crun.
set -euo pipefail

DENO_VERSION=2.9.6
DENO_PREFIX=/opt/deno-${DENO_VERSION}
PACKAGES=(runc crun conmon containernetworking-plugins iptables docker-registry busybox-static criu
  containerd prometheus bats tmux jq iproute2)

say() { printf '\033[1mprovision:\033[0m %s\n' "$*"; }
die() {
  printf 'provision: error: %s\n' "$*" >&2
  exit 1
}

if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "must run as root (sudo is not installed)"
  say "re-running as root with sudo"
  exec sudo --preserve-env=K8S_MINORS,GO,CI,PATH bash "${BASH_SOURCE[0]}" "$@"
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}" "$@"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) == installed ]] ||
      missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    say "host packages: all ${#PACKAGES[@]} installed"
    return
  fi
  say "host packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

find_go() {
  if [[ -n ${GO:-} ]]; then
    [[ -x $GO ]] || die "GO=$GO is not an executable"
  elif [[ -x /usr/local/go/bin/go ]]; then
    GO=/usr/local/go/bin/go
  elif command -v go >/dev/null; then
    GO=$(command -v go)
  else
    die "Go not found: install Go >= 1.24 at /usr/local/go (Debian 12's golang-go 1.19 is too old)"
  fi
  PATH="$(dirname "$GO"):$PATH"
  say "go: $("$GO" version)"
}

deno_ok() { [[ -x /usr/local/bin/deno ]] && /usr/local/bin/deno --version 2>/dev/null | grep -q "^deno ${DENO_VERSION} "; }

install_deno() {
  if deno_ok; then
    say "deno ${DENO_VERSION}: already installed"
    return
  fi
  local arch
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) die "no Deno npm build for $(uname -m)" ;;
  esac
  command -v npm >/dev/null || install_packages npm
  say "deno ${DENO_VERSION}: installing from npm into ${DENO_PREFIX}"
  npm install --no-audit --no-fund --loglevel=error --prefix "$DENO_PREFIX" "deno@${DENO_VERSION}" </dev/null
  local bin="$DENO_PREFIX/node_modules/@deno/linux-${arch}-glibc/deno"
  [[ -x $bin ]] || die "npm did not install the Deno binary at $bin"
  ln -sfn "$bin" /usr/local/bin/deno
  deno_ok || die "/usr/local/bin/deno does not report version ${DENO_VERSION}"
  say "deno: $(deno --version | head -n1)"
}

cache_deno_deps() {
  local entries=() f
  for f in main.ts conformance/run.ts; do [[ -f $f ]] && entries+=("$f"); done
  say "deno deps: caching (entry points: ${entries[*]:-none yet})"
  deno install --quiet </dev/null
  if ((${#entries[@]})); then deno install --quiet --entrypoint "${entries[@]}" </dev/null; fi
}

default_minor() {
  sed -n 's/^export const DEFAULT_MINOR = "\([0-9.]*\)";$/\1/p' src/cri/k8s_versions.ts
}

build_cri_tools() {
  local def minors out minor dir link_dir="" link_minor=""
  def=$(default_minor)
  [[ -n $def ]] || die "cannot read DEFAULT_MINOR from src/cri/k8s_versions.ts"
  minors=${K8S_MINORS:-$def}
  say "cri-tools: Kubernetes minors: $minors"
  # shellcheck disable=SC2086 # word-splitting the list of minors is intended
  out=$(deno run --quiet --no-prompt --allow-read --allow-write=.cache --allow-run=go --allow-env \
    tools/install_cri_tools.ts $minors --actionlint </dev/null)
  # One "<minor> <dir>" line per minor. crictl of the default minor goes on PATH; when that minor
  # was not asked for, the first requested one stands in.
  while read -r minor dir; do
    [[ -x $dir/crictl ]] || die "crictl missing in $dir"
    if [[ $minor == "$def" || -z $link_dir ]]; then link_dir=$dir link_minor=$minor; fi
  done <<<"$out"
  [[ -n $link_dir ]] || die "install_cri_tools.ts reported no build"
  [[ $link_minor == "$def" ]] || say "crictl: default minor $def not built; using $link_minor's"
  link_crictl "$link_dir/crictl"
}

link_crictl() {
  # A copy, not a link: the repository (and its .cache) may move or be deleted, crictl must stay.
  local target=$1 dest=/usr/local/bin/crictl
  if [[ -f $dest && ! -L $dest ]] && cmp -s "$target" "$dest"; then
    say "crictl: $dest is already the pinned build"
    return
  fi
  install -m 0755 "$target" "$dest.tmp" && mv -f "$dest.tmp" "$dest"
  say "crictl: installed $target as $dest"
}

link_cni_plugins() {
  local plugin name dest linked=0
  [[ -d /usr/lib/cni ]] || die "/usr/lib/cni missing (containernetworking-plugins not installed?)"
  mkdir -p /opt/cni/bin
  for plugin in /usr/lib/cni/*; do
    name=$(basename "$plugin")
    dest=/opt/cni/bin/$name
    [[ -e $dest && ! -L $dest ]] && continue # a real file: never overwritten
    [[ $(readlink "$dest" 2>/dev/null) == "$plugin" ]] && continue
    ln -sfn "$plugin" "$dest"
    linked=$((linked + 1))
  done
  say "cni: /opt/cni/bin has $(find /opt/cni/bin/ -mindepth 1 -maxdepth 1 | wc -l) plugins ($linked newly linked)"
}

# crun refuses a hybrid cgroup layout ("cgroups in hybrid mode not supported") unless hugetlb is
# bound to a v1 hierarchy. Only ever adds that one mount; existing hierarchies are left as they are.
bind_hugetlb() {
  if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
    say "cgroups: unified v2, nothing to do"
    return
  fi
  if grep -q hugetlb /proc/self/mountinfo; then
    say "cgroups: hugetlb already mounted"
    return
  fi
  local hierarchy
  hierarchy=$(awk '$1 == "hugetlb" { print $2 }' /proc/cgroups)
  if [[ $hierarchy != 0 ]]; then
    say "cgroups: hugetlb is ${hierarchy:-not available} (hierarchy), not mounting"
    return
  fi
  if ! mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null; then
    say "cgroups: /sys/fs/cgroup is read-only; remounting it read-write to add hugetlb"
    mount -o remount,rw /sys/fs/cgroup
    mkdir -p /sys/fs/cgroup/hugetlb
  fi
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
  say "cgroups: mounted the hugetlb v1 hierarchy at /sys/fs/cgroup/hugetlb"
}

# The conformance images need a busybox whose sh execs commands found on PATH, as upstream
# busybox images do (critest's MaskedPaths spec masks /bin/ls and expects the exec to fail).
# busybox-static runs applets in-process instead, and Debian's dynamic busybox conflicts with it,
# so that package is unpacked to a directory of its own, not installed.
HARNESS_BUSYBOX=/usr/local/libexec/crio-deno/busybox
fetch_harness_busybox() {
  local tmp
  if [[ -x $HARNESS_BUSYBOX ]] && "$HARNESS_BUSYBOX" true; then
    say "harness busybox: $HARNESS_BUSYBOX"
    return
  fi
  tmp=$(mktemp -d)
  chown _apt "$tmp" 2>/dev/null || true
  if ! (cd "$tmp" && apt-get download -q busybox </dev/null); then
    apt-get update -q
    (cd "$tmp" && apt-get download -q busybox </dev/null) || die "apt-get download busybox failed"
  fi
  dpkg-deb -x "$tmp"/busybox_*.deb "$tmp/x"
  install -D -m 0755 "$tmp/x/bin/busybox" "$HARNESS_BUSYBOX"
  rm -rf "$tmp"
  say "harness busybox: unpacked Debian's busybox to $HARNESS_BUSYBOX"
}

# Runs a throw-away busybox container with each OCI runtime; warns (does not fail) if one cannot.
smoke_test_runtimes() {
  local bundle rt id
  [[ -x /bin/busybox ]] || return 0
  bundle=$(mktemp -d)
  mkdir -p "$bundle/rootfs/bin"
  cp /bin/busybox "$bundle/rootfs/bin/"
  (cd "$bundle" && crun spec)
  jq '.process.args = ["/bin/busybox", "true"] | .process.terminal = false' \
    "$bundle/config.json" >"$bundle/config.tmp" && mv "$bundle/config.tmp" "$bundle/config.json"
  for rt in runc crun; do
    id=provision-smoke-$$-$rt
    if "$rt" run --bundle "$bundle" "$id" </dev/null >"$bundle/$rt.log" 2>&1; then
      say "runtime: $rt $("$rt" --version | head -n1 | awk '{ print $NF }') runs containers"
    else
      say "runtime: WARNING: $rt cannot run a container: $(tail -n1 "$bundle/$rt.log")"
    fi
    "$rt" delete --force "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$bundle"
}

main() {
  local start=$SECONDS
  install_packages
  find_go
  install_deno
  # The schema comes first: the daemon's entry points import the types generated from it.
  say "schema: deno task schema"
  deno task schema </dev/null
  cache_deno_deps
  # The daemon runs from a minified bundle (bin/bundle); building it here fetches esbuild once, so
  # the daemon's first start needs no registry.
  say "bundle: $(bash bin/bundle </dev/null)"
  build_cri_tools
  link_cni_plugins
  fetch_harness_busybox
  bind_hugetlb
  smoke_test_runtimes
  say "done in $((SECONDS - start))s"
}

main "$@"
