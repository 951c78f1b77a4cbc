#!/usr/bin/env bash
# Installs what footprint needs and is missing, and nothing else:
#   - Debian packages (apt), only those not installed yet;
#   - the Pulumi CLI, built from tools/pulumi-cli into $FOOTPRINT_TOOLS_DIR/bin
#     unless a `pulumi` is already on PATH;
#   - the libvirt resource plugin v0.5.4, built from tools/pulumi-resource-libvirt
#     into $PULUMI_HOME/plugins unless already there.
# Idempotent: a second run takes seconds. Works as root with no standard input.
#
# Environment:
#   FOOTPRINT_TOOLS_DIR  default ${XDG_CACHE_HOME:-$HOME/.cache}/footprint/tools
#   PULUMI_HOME          default $HOME/.pulumi
# Go's build and module caches (GOCACHE, GOMODCACHE) are kept as they are.
set -eu
set -o pipefail

APT_PACKAGES="qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients
mmdebstrap fdisk genisoimage cloud-image-utils shellcheck cloud-init iproute2
iptables dnsmasq-base xsltproc librsvg2-bin libseccomp-dev pkg-config
openssh-server"

# Packages whose own service must stay off: the tests start sshd only inside
# a network namespace of their own, as a second libvirt host's SSH server.
QUIET_SERVICES="openssh-server:ssh.service,ssh.socket"

PULUMI_VERSION=v3.274.1
ACTIONLINT_VERSION=v1.7.10
LIBVIRT_PLUGIN_VERSION=0.5.4

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS_DIR=${FOOTPRINT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/footprint/tools}
PULUMI_HOME_DIR=${PULUMI_HOME:-$HOME/.pulumi}

SUMMARY=""

log() { printf 'tools.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
summary() { SUMMARY="$SUMMARY$(printf '%-24s %s' "$1" "$2")
"; }

# as_root runs a command as root, through sudo when not root already.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root (or sudo) for: $*"
	fi
}

# apt_get runs apt-get non-interactively; it waits up to 15 minutes for
# another apt or dpkg to let go of the dpkg lock.
apt_get() {
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		-o DPkg::Lock::Timeout=900 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"$@" </dev/null
}

# apt_update retries while another apt-get update holds the lists lock, which
# DPkg::Lock::Timeout does not cover.
apt_update() {
	tries=0
	until apt_get update; do
		tries=$((tries + 1))
		[ "$tries" -lt 30 ] || return 1
		log "apt-get update failed (another apt running?); retrying in 10 s"
		sleep 10
	done
}

install_apt_packages() {
	missing=""
	for p in $APT_PACKAGES; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		summary "apt packages" "all $(echo "$APT_PACKAGES" | wc -w) present (found)"
		return
	fi
	log "installing apt packages:$missing"
	apt_update
	without_service_starts install_missing
	keep_services_off "$missing"
	summary "apt packages" "${missing# } (installed)"
}

# shellcheck disable=SC2086 # word splitting of the package list is intended
install_missing() { apt_get install $missing; }

# without_service_starts runs a command while Debian's invoke-rc.d policy
# (policy-rc.d, exit 101) forbids packages to start their services, unless
# the machine has a policy of its own already.
without_service_starts() {
	policy=/usr/sbin/policy-rc.d
	if [ -e "$policy" ]; then
		"$@"
		return
	fi
	as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
	rc=0
	"$@" || rc=$?
	as_root rm -f "$policy"
	return "$rc"
}

# keep_services_off disables, under systemd, the services of the packages
# just installed that footprint needs as programs only.
keep_services_off() {
	[ -d /run/systemd/system ] || return 0
	for entry in $QUIET_SERVICES; do
		case " $1 " in *" ${entry%%:*} "*) ;; *) continue ;; esac
		# shellcheck disable=SC2046 # one unit per word
		as_root systemctl disable --now $(echo "${entry#*:}" | tr ',' ' ') >/dev/null 2>&1 || true
	done
}

find_go() {
	if command -v go >/dev/null 2>&1; then
		GO=$(command -v go)
	elif [ -x /usr/local/go/bin/go ]; then
		GO=/usr/local/go/bin/go
	else
		die "Go is needed to build the Pulumi tools; install it (https://go.dev/dl/) and put it on PATH"
	fi
}

# recipe_hash prints a hash of a tool module's sources and of its build
# command, so that a changed recipe builds anew.
recipe_hash() {
	(
		cd "$1"
		find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' -o -name '*.json' \) |
			LC_ALL=C sort | xargs sha256sum
		printf '%s\n' "$2"
	) | sha256sum | cut -d' ' -f1
}

install_pulumi_cli() {
	bin=$TOOLS_DIR/bin/pulumi
	stamp=$TOOLS_DIR/bin/.pulumi.recipe
	on_path=$(command -v pulumi 2>/dev/null || true)
	if [ -n "$on_path" ] && [ "$on_path" != "$bin" ]; then
		summary "pulumi" "$on_path (found on PATH)"
		return
	fi
	mod=$ROOT/tools/pulumi-cli
	ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
	recipe=$(recipe_hash "$mod" "$ldflags")
	if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$recipe" ]; then
		summary "pulumi" "$bin (found)"
		return
	fi
	find_go
	log "building the Pulumi CLI $PULUMI_VERSION into $bin (a few minutes when cold)"
	mkdir -p "$TOOLS_DIR/bin"
	tmp=$bin.partial.$$
	trap 'rm -f "$tmp"' EXIT
	(cd "$mod" && CGO_ENABLED=0 "$GO" build -buildvcs=false -ldflags "$ldflags" -o "$tmp" \
		github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
	mv -f "$tmp" "$bin"
	trap - EXIT
	printf '%s\n' "$recipe" >"$stamp"
	summary "pulumi" "$bin (built)"
}

install_libvirt_plugin() {
	name=resource-libvirt-v$LIBVIRT_PLUGIN_VERSION
	dir=$PULUMI_HOME_DIR/plugins/$name
	bin=$dir/pulumi-resource-libvirt
	# Pulumi ignores a plugin folder while a "<folder>.partial" file sits beside it.
	partial=$PULUMI_HOME_DIR/plugins/$name.partial
	if [ -x "$bin" ]; then
		# The binary only ever appears by a rename, so it is complete.
		rm -f "$partial"
		summary "pulumi-resource-libvirt" "$bin (found)"
		return
	fi
	find_go
	log "building the libvirt resource plugin v$LIBVIRT_PLUGIN_VERSION into $bin (about 2 minutes when cold)"
	mkdir -p "$dir"
	: >"$partial"
	tmp=$bin.partial.$$
	trap 'rm -f "$tmp"' EXIT
	(cd "$ROOT/tools/pulumi-resource-libvirt" &&
		CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$tmp" ./cmd/pulumi-resource-libvirt)
	mv -f "$tmp" "$bin"
	trap - EXIT
	rm -f "$partial"
	summary "pulumi-resource-libvirt" "$bin (built)"
}

# Plain `pulumi up` and `pulumi preview` run main.go through Pulumi's Go
# language host, which a normal Pulumi install ships beside `pulumi` and the
# CLI built above lacks; `footprint run` runs its program inline and needs
# none, so a missing one is only said, in one line.
check_language_host() {
	cli=$(command -v pulumi 2>/dev/null || printf '%s' "$TOOLS_DIR/bin/pulumi")
	host=$(command -v pulumi-language-go 2>/dev/null || true)
	if [ -z "$host" ] && [ -x "$(dirname "$cli")/pulumi-language-go" ]; then
		host=$(dirname "$cli")/pulumi-language-go
	fi
	if [ -n "$host" ]; then
		summary "pulumi-language-go" "$host (found)"
	else
		summary "pulumi-language-go" "missing: plain \`pulumi up\` needs it (see README), footprint run does not"
	fi
}

# actionlint checks the GitHub Actions workflow in `make test`.
install_actionlint() {
	bin=$TOOLS_DIR/bin/actionlint
	if [ -x "$bin" ] && "$bin" -version 2>/dev/null | grep -qx "$ACTIONLINT_VERSION"; then
		summary "actionlint" "$bin (found)"
		return
	fi
	find_go
	log "building actionlint $ACTIONLINT_VERSION into $bin"
	mkdir -p "$TOOLS_DIR/bin"
	GOBIN=$TOOLS_DIR/bin CGO_ENABLED=0 "$GO" install -ldflags "-X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
		"github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
	summary "actionlint" "$bin (built)"
}

install_apt_packages
install_pulumi_cli
check_language_host
install_libvirt_plugin
install_actionlint
printf '%s' "$SUMMARY"
