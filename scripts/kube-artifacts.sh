#!/usr/bin/env bash
# Builds the kubeadm profile's offline artifacts from Go modules, for the
# real-cluster test: no download from anywhere but the Go module proxy and
# the host's Debian mirror (for the MySQL stand-in). The folder has the layout
# the kubeadm profile's `artifacts` list declares, the layout that
# `footprint artifacts fetch` writes from the projects' own releases:
#
#   kubeadm kubelet kubectl            Kubernetes (tools/kubernetes)
#   containerd.tar.gz                  bin/containerd, bin/containerd-shim-runc-v2, bin/ctr
#   runc.amd64                         runc, static
#   cni-plugins.tgz                    bridge, host-local, loopback, portmap
#   images/*.tar                       kube-apiserver, kube-controller-manager,
#                                      kube-scheduler, etcd, pause (kubeadm's own
#                                      names and tags), standin-mysql (tests only)
#   SHA256SUMS, VERSIONS
#
# Not built (the README says so): kube-proxy and CoreDNS images, a pod network
# add-on's images: the profile then skips those add-ons and uses the bridge
# CNI plugin.
#
#   scripts/kube-artifacts.sh [--out LINK]
#
# Cached under ${XDG_CACHE_HOME:-$HOME/.cache}/footprint/artifacts, keyed by a
# hash of this script and of every file it builds from. Progress goes to
# stderr; the last line of stdout is the folder. Needs Go, gcc and libseccomp-dev
# (runc is cgo), and root with mmdebstrap for the stand-in (scripts/tools.sh
# installs them).
set -euo pipefail

KUBE_VERSION=v1.36.3
CONTAINERD_VERSION=v2.3.7
RUNC_VERSION=v1.5.2
CNI_VERSION=v1.9.1
PAUSE_VERSION=3.10.2

ROOT=$(cd "$(dirname "$0")/.." && pwd)
out_link=''
while [ $# -gt 0 ]; do
	case $1 in
	--out)
		out_link=$2
		shift 2
		;;
	*)
		echo "usage: $0 [--out LINK]" >&2
		exit 2
		;;
	esac
done

exec 3>&1 1>&2
log() { printf 'kube-artifacts.sh: %s\n' "$*" >&2; }

GO=$(command -v go || echo /usr/local/go/bin/go)
recipe=$( (
	cd "$ROOT"
	find scripts/kube-artifacts.sh tools/kubernetes tools/container-runtime tools/kube-images testimage/standin-mysql \
		-type f | LC_ALL=C sort | xargs sha256sum
	"$GO" version
) | sha256sum | cut -c1-12)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/footprint/artifacts
dir=$cache/kubeadm-$KUBE_VERSION-$recipe
mkdir -p "$cache"

place() {
	if [ -n "$out_link" ]; then
		mkdir -p "$(dirname "$out_link")"
		ln -sfn "$dir" "$out_link"
	fi
	echo "$dir" >&3
}

exec 9>"$cache/.lock"
flock 9
if [ -f "$dir/SHA256SUMS" ]; then
	log "cached $dir"
	place
	exit 0
fi

work=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
mkdir -p "$work/out/images" "$work/bin" "$work/containerd/bin" "$work/cni"

# Kubernetes: one binary per component, as upstream ships them (a multi-call
# binary would run every component's package initialisation in every
# process, and footprint measures those processes). Version strings as
# upstream's build sets them, so `kubectl version` prints the truth.
k8s_pkg=k8s.io/component-base/version
cg_pkg=k8s.io/client-go/pkg/version
minor=${KUBE_VERSION#v1.}
minor=${minor%%.*}
ldflags="-s -w"
for p in $k8s_pkg $cg_pkg; do
	ldflags="$ldflags -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
	ldflags="$ldflags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
log "building Kubernetes $KUBE_VERSION and etcd (about 10 minutes when cold)"
(cd "$ROOT/tools/kubernetes" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "$ldflags" -o "$work/bin/" \
	k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler)
(cd "$ROOT/tools/kubernetes" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$work/bin/etcd" \
	go.etcd.io/etcd/server/v3)
cp "$work/bin/kubeadm" "$work/bin/kubelet" "$work/bin/kubectl" "$work/out/"

log "building containerd $CONTAINERD_VERSION, runc $RUNC_VERSION and the CNI plugins $CNI_VERSION"
rt=$ROOT/tools/container-runtime
(cd "$rt" && CGO_ENABLED=0 "$GO" build -trimpath -tags "no_btrfs no_devmapper no_zfs" \
	-ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
	-o "$work/containerd/bin/" github.com/containerd/containerd/v2/cmd/containerd \
	github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 github.com/containerd/containerd/v2/cmd/ctr)
# With seccomp (libseccomp, linked statically): kubeadm's control-plane pods
# ask for the RuntimeDefault seccomp profile, which a runc without it refuses.
(cd "$rt" && CGO_ENABLED=1 "$GO" build -trimpath -tags "seccomp netgo osusergo" \
	-ldflags "-s -w -X main.version=${RUNC_VERSION#v} -extldflags -static" \
	-o "$work/out/runc.amd64" github.com/opencontainers/runc)
(cd "$rt" && CGO_ENABLED=0 "$GO" build -trimpath \
	-ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_VERSION" \
	-o "$work/cni/" github.com/containernetworking/plugins/plugins/main/bridge \
	github.com/containernetworking/plugins/plugins/main/loopback \
	github.com/containernetworking/plugins/plugins/ipam/host-local \
	github.com/containernetworking/plugins/plugins/meta/portmap)
# The release tarballs' layouts: containerd's has bin/, the CNI plugins' none.
tar -C "$work/containerd" --owner=0 --group=0 -czf "$work/out/containerd.tar.gz" bin
tar -C "$work/cni" --owner=0 --group=0 -czf "$work/out/cni-plugins.tgz" .

log "building the images"
img=$ROOT/tools/kube-images
(cd "$img" && CGO_ENABLED=0 "$GO" build -trimpath -o "$work/kube-images" ./cmd/kube-images)
(cd "$img" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w -X main.version=$PAUSE_VERSION" \
	-o "$work/pause" ./cmd/pause)
# kubeadm's own image names and tags for this version.
"$work/bin/kubeadm" config images list --kubernetes-version "$KUBE_VERSION" >"$work/images.txt"
image_ref() { grep -E "/$1:" "$work/images.txt"; }
for c in kube-apiserver kube-controller-manager kube-scheduler etcd; do
	"$work/kube-images" -ref "$(image_ref "$c")" -out "$work/out/images/$c.tar" \
		-file "/usr/local/bin/$c=$work/bin/$c"
done
pause_ref=$(image_ref pause)
[ "${pause_ref##*:}" = "$PAUSE_VERSION" ] || {
	log "kubeadm wants $pause_ref, this script builds pause $PAUSE_VERSION: update PAUSE_VERSION"
	exit 1
}
"$work/kube-images" -ref "$pause_ref" -out "$work/out/images/pause.tar" -file "/pause=$work/pause" -entrypoint /pause

# The MySQL stand-in (testimage/standin-mysql), as an image for containerd.
sources=''
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	if [ -s "$f" ] && grep -q '^[^#]*bookworm' "$f"; then
		sources=$f
		break
	fi
done
[ -n "$sources" ] || {
	log "no host apt sources for bookworm found (needed for the MySQL stand-in)"
	exit 1
}
TMPDIR=$work "$ROOT/testimage/standin-mysql/rootfs.sh" "$sources" "$work/standin-rootfs.tar"
"$work/kube-images" -ref docker.io/footprint/standin-mysql:1 -out "$work/out/images/standin-mysql.tar" \
	-rootfs "$work/standin-rootfs.tar" -cmd /usr/local/bin/footprint-mysqld

{
	echo "kubernetes $KUBE_VERSION"
	echo "etcd $("$work/bin/etcd" --version | awk '/^etcd Version/ { print $3 }')"
	echo "containerd $CONTAINERD_VERSION"
	echo "runc $RUNC_VERSION"
	echo "cni-plugins $CNI_VERSION"
	echo "pause $PAUSE_VERSION (Go)"
	cat "$work/images.txt"
} >"$work/out/VERSIONS"
(cd "$work/out" && find . -type f | sed "s|^\./||" | LC_ALL=C sort | xargs sha256sum >"$work/SHA256SUMS")
mv "$work/SHA256SUMS" "$work/out/SHA256SUMS"
mv "$work/out" "$dir"
# Folders of older recipes are of no further use.
find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'kubeadm-*' ! -path "$dir" -exec rm -rf {} +
log "built $dir ($(du -sh "$dir" | cut -f1)) in $(($(date +%s) - start)) s"
place
