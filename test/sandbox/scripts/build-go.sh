#!/usr/bin/env bash
# Builds the sandbox's Go components into $RC_CACHE/bin (idempotent; skips what is already built).
#   etcd 3.6, kube-apiserver + kubectl 1.34 (wrapper module with staging replaces), kwok 0.8.
# Caches: GOMODCACHE / GOCACHE default to Go's own (in $HOME), never inside the repo.
set -euo pipefail
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
RC_CACHE="${RC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ray-connect}"
BIN="$RC_CACHE/bin"
WORK="$RC_CACHE/go-build"
mkdir -p "$BIN" "$WORK"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=auto

say() { printf '[sandbox build] %s\n' "$*" >&2; }
stamp_ok() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$BIN/.$1.version"; }

if ! stamp_ok etcd "$ETCD_VERSION"; then
  say "building etcd $ETCD_VERSION (first time: a few minutes)"
  d="$WORK/etcd"; rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init rcsandbox/etcd >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
  go build -trimpath -o "$BIN/etcd" go.etcd.io/etcd/server/v3
  stamp etcd "$ETCD_VERSION"
fi

if ! stamp_ok kwok "$KWOK_VERSION"; then
  say "building kwok $KWOK_VERSION (first time: a few minutes)"
  GOBIN="$BIN" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  stamp kwok "$KWOK_VERSION"
fi

if ! stamp_ok kube-apiserver "$K8S_VERSION" || ! stamp_ok kubectl "$K8S_VERSION"; then
  say "building kube-apiserver and kubectl $K8S_VERSION (first time: 10-20 minutes on 2 cores)"
  d="$WORK/k8s"; rm -rf "$d"; mkdir -p "$d"; cd "$d"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  staging="v0.${K8S_VERSION#v1.}"
  goversion=$(sed -n 's/^go \(.*\)/\1/p' "$gomod")
  {
    echo "module rcsandbox/k8s"; echo; echo "go $goversion"; echo
    echo "require k8s.io/kubernetes $K8S_VERSION"; echo
    grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging/' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools
package tools
import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubectl/pkg/cmd"
)
GO
  go mod tidy >/dev/null 2>&1 || go mod tidy
  major="${K8S_VERSION#v}"; major="${major%%.*}"; minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  go build -trimpath -ldflags "-s -w $ld" -o "$BIN/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  stamp kube-apiserver "$K8S_VERSION"
  go build -trimpath -ldflags "-s -w $ld" -o "$BIN/kubectl" k8s.io/kubernetes/cmd/kubectl
  stamp kubectl "$K8S_VERSION"
fi
say "Go components ready in $BIN"
