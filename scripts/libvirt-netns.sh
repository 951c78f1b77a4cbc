#!/bin/bash
# libvirt-netns.sh: run a private libvirtd inside a network namespace of its own.
#
# Usage (as root, no standard input needed):
#   libvirt-netns.sh up NAME              create netns NAME and start virtlogd + libvirtd inside it
#   libvirt-netns.sh exec NAME -- CMD...  run CMD inside NAME's network and mount namespaces,
#                                         in the caller's working directory and environment;
#                                         exits with CMD's status
#   libvirt-netns.sh down NAME            stop everything inside NAME, delete it, check nothing is
#                                         left (idempotent, safe from a trap; exit 1 if anything remains)
#   libvirt-netns.sh status NAME          print PIDs and whether they are alive
#                                         (exit 0 = up, 3 = not up at all, 1 = partly up)
#   libvirt-netns.sh restart-libvirtd NAME [DOWN]  stop libvirtd, wait DOWN seconds, start it again
#
# How it works: `up` creates the network namespace NAME and a long-lived "holder" process
# (sleep) in that netns and in a private mount namespace in which fresh folders of the state
# dir are bind-mounted over /run/libvirt, /var/lib/libvirt, /var/cache/libvirt,
# /var/log/libvirt and /etc/libvirt (a copy of the host's, with every autostart link removed).
# virtlogd and libvirtd are started inside both namespaces with nsenter, so every bridge,
# dnsmasq, iptables rule and qemu process they create stays in the namespace, and the host's
# (or another namespace's) libvirt is never touched. Nothing is mounted on the host itself.
#
# Environment:
#   FOOTPRINT_NETNS_STATE    state dir of this NAME (default /run/footprint-netns/NAME).
#                            `down`/`exec`/`status` find it again without the variable.
#   FOOTPRINT_NETNS_TIMEOUT  seconds `up` waits for libvirtd to answer (default 30).
#   FOOTPRINT_NETNS_KILL_WAIT seconds `down` waits after SIGTERM before SIGKILL (default 10).
#   FOOTPRINT_NETNS_CAPS_CACHE optional folder (e.g. ~/.cache/footprint/libvirt-caps) that keeps
#                            libvirt's probed qemu capabilities between runs: `up` seeds the
#                            private cache from it and saves it back. Saves ~8 s per `up`; libvirt
#                            re-probes by itself whenever qemu, libvirt or the kernel changed.
#
# State dir contents: holder.pid, virtlogd.pid, libvirtd.pid, daemons.log (daemon start
# output), holder.log, and the private folders etc/ lib/ cache/ log/ run/
# (libvirtd's own log is log/libvirtd.log, qemu's are log/qemu/DOMAIN.log).
set -eu

readonly BASE=/run/footprint-netns
readonly MARKER=.footprint-netns

die() {
	echo "libvirt-netns: $*" >&2
	exit 1
}

usage() {
	sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

check_name() {
	case "$1" in
	'' | *[!A-Za-z0-9_.-]* | .*) die "invalid namespace name '$1' (letters, digits, _ . - only)" ;;
	esac
	[ "${#1}" -le 64 ] || die "namespace name '$1' too long"
}

# index file that remembers where NAME's state dir is, whatever FOOTPRINT_NETNS_STATE says later
index_file() { echo "$BASE/.index/$1"; }

state_dir() {
	local name=$1 idx
	if [ -n "${FOOTPRINT_NETNS_STATE:-}" ]; then
		echo "$FOOTPRINT_NETNS_STATE"
		return 0
	fi
	idx=$(index_file "$name")
	if [ -s "$idx" ]; then
		cat "$idx"
		return 0
	fi
	echo "$BASE/$name"
}

netns_exists() { [ -e "/run/netns/$1" ] && ip netns list | awk '{print $1}' | grep -qxF -- "$1"; }

# alive PID: exists and is not a zombie
alive() {
	local pid=$1 st
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	[ -r "/proc/$pid/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

read_pid() { # FILE -> pid or empty
	local p=''
	[ -r "$1" ] && p=$(tr -dc 0-9 <"$1" 2>/dev/null)
	echo "$p"
}

netns_id_of_pid() { readlink "/proc/$1/ns/net" 2>/dev/null || true; }

# netns identities ("net:[INODE]") belonging to NAME: the named one and the holder's
netns_ids() {
	local name=$1 state=$2 h ino
	if [ -e "/run/netns/$name" ]; then
		ino=$(stat -L -c %i "/run/netns/$name" 2>/dev/null || true)
		[ -n "$ino" ] && echo "net:[$ino]"
	fi
	h=$(read_pid "$state/holder.pid")
	if alive "$h" && [ "$(tr '\0' ' ' <"/proc/$h/cmdline" 2>/dev/null)" = "sleep infinity " ]; then
		netns_id_of_pid "$h"
	fi
}

# every live PID whose network namespace is one of IDS (excluding this shell)
pids_in() {
	local ids=$1 id ino f p
	[ -n "$ids" ] || return 0
	for id in $(printf '%s\n' "$ids" | sort -u); do
		ino=${id#net:[}
		ino=${ino%]}
		case "$ino" in '' | *[!0-9]*) continue ;; esac
		# one find for all processes; -lname tests the link text "net:[INODE]"
		find /proc/[0-9]*/ns/net -maxdepth 0 -lname "net:\[$ino\]" 2>/dev/null |
			while IFS=/ read -r _ _ p _; do
				if [ "$p" != "$$" ] && alive "$p"; then echo "$p"; fi
			done || true
	done
	return 0
}

describe_pids() {
	local p
	for p in "$@"; do
		printf '  %s %s\n' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)"
	done
}

# ---------------------------------------------------------------- down
do_down() {
	local name=$1 quiet=${2:-} state ids pids waited kw p left='' killed zombies
	state=$(state_dir "$name")
	kw=${FOOTPRINT_NETNS_KILL_WAIT:-10}

	# refuse to kill ourselves: down must be called from outside the namespace
	ids=$(netns_ids "$name" "$state")
	if [ -n "$ids" ] && printf '%s\n' "$ids" | grep -qxF -- "$(netns_id_of_pid $$)"; then
		die "down $name called from inside namespace $name; call it from the host side"
	fi

	pids=$(pids_in "$ids")
	killed=$pids
	if [ -n "$pids" ]; then
		# libvirtd first, so it does not react to its domains and dnsmasq going away
		p=$(read_pid "$state/libvirtd.pid")
		if alive "$p" && printf '%s\n' "$pids" | grep -qxF "$p"; then
			kill -TERM "$p" 2>/dev/null || true
			waited=0
			while alive "$p" && [ "$waited" -lt 30 ]; do
				sleep 0.1
				waited=$((waited + 1))
			done
		fi
		pids=$(pids_in "$ids")
		# shellcheck disable=SC2086 # word splitting of the PID list is intended
		[ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
		waited=0
		while [ -n "$pids" ] && [ "$waited" -lt $((kw * 10)) ]; do
			sleep 0.1
			waited=$((waited + 1))
			pids=$(pids_in "$ids")
		done
		if [ -n "$pids" ]; then
			[ -n "$quiet" ] || echo "libvirt-netns: SIGKILL to $(echo "$pids" | tr '\n' ' ')after ${kw}s" >&2
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null || true
			waited=0
			while [ -n "$pids" ] && [ "$waited" -lt 50 ]; do
				sleep 0.1
				waited=$((waited + 1))
				pids=$(pids_in "$ids")
			done
		fi
	fi

	if netns_exists "$name" || [ -e "/run/netns/$name" ]; then
		ip netns delete "$name" 2>/dev/null || true
	fi

	if [ -z "$pids" ] && [ -d "$state" ]; then
		if [ -e "$state/$MARKER" ]; then
			rm -rf -- "$state"
		else
			left="$left
  state dir $state has no $MARKER marker file: not removing it"
		fi
	fi

	# verify
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		left="$left
  processes still in the namespace:
$(describe_pids $pids)"
	fi
	if netns_exists "$name" || [ -e "/run/netns/$name" ]; then
		left="$left
  network namespace $name still exists"
	fi
	if [ -e "$state" ]; then
		left="$left
  state dir $state still exists"
	fi
	if [ -n "$left" ]; then
		echo "libvirt-netns: down $name: NOT clean:$left" >&2
		return 1
	fi
	rm -f -- "$(index_file "$name")"
	rmdir "$BASE/.index" "$BASE" 2>/dev/null || true
	# the killed daemons were orphans: wait (bounded, never failing) until PID 1 has reaped
	# them, so that a plain `ps` right after `down` shows no <defunct> libvirtd/qemu
	waited=0
	while [ "$waited" -lt 50 ]; do
		zombies=''
		for p in $killed; do [ -e "/proc/$p" ] && zombies=1 && break; done
		[ -n "$zombies" ] || break
		sleep 0.1
		waited=$((waited + 1))
	done
	return 0
}

# ---------------------------------------------------------------- up
UP_NAME=''
UP_DONE=''
up_cleanup() {
	local rc=$?
	if [ -n "$UP_NAME" ] && [ -z "$UP_DONE" ]; then
		trap - EXIT INT TERM HUP
		[ "$rc" -ne 0 ] || rc=1
		echo "libvirt-netns: up $UP_NAME failed; cleaning up" >&2
		local st
		st=$(state_dir "$UP_NAME")
		for f in holder.log daemons.log log/libvirtd.log; do
			if [ -s "$st/$f" ]; then
				echo "--- $st/$f (last lines):" >&2
				tail -n 20 "$st/$f" >&2 || true
			fi
		done
		do_down "$UP_NAME" quiet || true
		exit "$rc"
	fi
}

do_up() {
	local name=$1 state holder holder_bg i timeout t0 p ms deadline caps
	state=$(state_dir "$name")
	timeout=${FOOTPRINT_NETNS_TIMEOUT:-30}
	t0=$(date +%s%N)

	for cmd in ip nsenter unshare libvirtd virtlogd virsh setsid; do
		command -v "$cmd" >/dev/null || die "$cmd not found"
	done
	case "$state" in /?*) ;; *) die "state dir must be an absolute path, got '$state'" ;; esac
	netns_exists "$name" && die "network namespace $name already exists (run: $0 down $name)"
	[ -e "$state" ] && die "state dir $state already exists (run: $0 down $name)"
	[ -e "$(index_file "$name")" ] && die "$(index_file "$name") exists: $name seems up (run: $0 down $name)"

	# claim the name; from here on a failure undoes everything
	ip netns add "$name" || die "ip netns add $name failed"
	UP_NAME=$name
	trap up_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	mkdir -p "$BASE/.index"
	echo "$state" >"$(index_file "$name")"
	mkdir -p "$state"
	: >"$state/$MARKER"
	ip -n "$name" link set lo up

	# fresh folders
	mkdir -p "$state/run" "$state/cache/qemu" "$state/log/qemu" "$state/etc"
	chmod 755 "$state/run" "$state/cache" "$state/log"
	chmod 700 "$state/log/qemu"
	if [ -d /etc/libvirt ]; then
		cp -a /etc/libvirt/. "$state/etc/"
	fi
	chmod 755 "$state/etc"
	find "$state/etc" -path '*/autostart/*' \( -type l -o -type f \) -delete
	# /var/lib/libvirt: the host's folder skeleton (no files), plus the usual subfolders
	mkdir -p "$state/lib"
	chmod 755 "$state/lib"
	if [ -d /var/lib/libvirt ]; then
		(cd /var/lib/libvirt && find . -mindepth 1 -type d -print0) |
			while IFS= read -r -d '' d; do
				mkdir -p "$state/lib/$d"
				chown --reference="/var/lib/libvirt/$d" "$state/lib/$d"
				chmod --reference="/var/lib/libvirt/$d" "$state/lib/$d"
			done
	fi
	for d in images boot dnsmasq network qemu; do
		[ -d "$state/lib/$d" ] || mkdir -p "$state/lib/$d"
	done
	if getent passwd libvirt-qemu >/dev/null && [ "$(stat -c %U "$state/lib/qemu")" = root ]; then
		chown libvirt-qemu:libvirt-qemu "$state/lib/qemu" && chmod 750 "$state/lib/qemu"
	fi

	caps=${FOOTPRINT_NETNS_CAPS_CACHE:-}
	if [ -n "$caps" ] && [ -d "$caps" ]; then
		mkdir -p "$state/cache/qemu/capabilities"
		find "$caps" -maxdepth 1 -type f -name '*.xml' -exec cp -p {} "$state/cache/qemu/capabilities/" \;
	fi

	# mount points must exist (they are only mounted over inside the private mount namespace)
	mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /etc/libvirt

	# the holder: netns NAME + a new mount namespace (slave: host unmounts, e.g. of other
	# namespaces' /run/netns entries, still propagate in; nothing propagates out)
	# shellcheck disable=SC2016 # expanded by the inner sh
	setsid ip netns exec "$name" unshare --mount --propagation slave sh -c '
		set -e
		s=$1
		mount --bind "$s/run" /run/libvirt
		mount --bind "$s/lib" /var/lib/libvirt
		mount --bind "$s/cache" /var/cache/libvirt
		mount --bind "$s/log" /var/log/libvirt
		mount --bind "$s/etc" /etc/libvirt
		echo $$ >"$s/holder.pid.tmp"
		mv "$s/holder.pid.tmp" "$s/holder.pid"
		exec sleep infinity
	' footprint-netns-holder "$state" </dev/null >>"$state/holder.log" 2>&1 &
	holder_bg=$!
	i=0
	while [ ! -s "$state/holder.pid" ]; do
		alive "$holder_bg" || die "holder process exited early (see $state/holder.log)"
		[ "$i" -lt 100 ] || die "holder did not start within 10 s"
		sleep 0.1
		i=$((i + 1))
	done
	holder=$(read_pid "$state/holder.pid")
	alive "$holder" || die "holder $holder is not alive"
	[ "$(ip netns identify "$holder")" = "$name" ] || die "holder $holder is not in netns $name"
	[ "$(readlink "/proc/$holder/ns/mnt")" != "$(readlink /proc/1/ns/mnt)" ] ||
		die "holder $holder shares the host's mount namespace"

	# the daemons; stdio to a file so a caller reading our output through a pipe never hangs
	nsenter -t "$holder" -n -m -- virtlogd -d -p "$state/virtlogd.pid" </dev/null >>"$state/daemons.log" 2>&1 ||
		die "virtlogd failed to start (see $state/daemons.log)"
	nsenter -t "$holder" -n -m -- libvirtd -d -p "$state/libvirtd.pid" </dev/null >>"$state/daemons.log" 2>&1 ||
		die "libvirtd failed to start (see $state/daemons.log and $state/log/libvirtd.log)"

	# the first connection waits while libvirtd probes qemu's capabilities (fresh cache: ~5-8 s)
	deadline=$(($(date +%s) + timeout))
	until nsenter -t "$holder" -n -m -- timeout "$timeout" virsh -q -c qemu:///system version </dev/null >/dev/null 2>&1; do
		p=$(read_pid "$state/libvirtd.pid")
		if [ -n "$p" ] && ! alive "$p"; then
			die "libvirtd ($p) died during start-up (see $state/log/libvirtd.log)"
		fi
		[ "$(date +%s)" -lt "$deadline" ] || die "libvirtd did not answer within ${timeout} s"
		sleep 0.2
	done
	for f in virtlogd libvirtd; do
		p=$(read_pid "$state/$f.pid")
		alive "$p" || die "$f is not running"
		[ "$(ip netns identify "$p")" = "$name" ] || die "$f ($p) is not in netns $name"
	done

	if [ -n "$caps" ] && [ -d "$state/cache/qemu/capabilities" ]; then
		mkdir -p "$caps"
		find "$state/cache/qemu/capabilities" -maxdepth 1 -type f -name '*.xml' -exec cp -p {} "$caps/" \; || true
	fi

	UP_DONE=1
	trap - EXIT INT TERM HUP
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "libvirt-netns: $name up in $((ms / 1000)).$(printf %03d $((ms % 1000))) s:" \
		"holder $holder, virtlogd $(read_pid "$state/virtlogd.pid"), libvirtd $(read_pid "$state/libvirtd.pid"), state $state" >&2
}

# ---------------------------------------------------------------- exec
do_exec() {
	local name=$1 state holder
	shift
	state=$(state_dir "$name")
	holder=$(read_pid "$state/holder.pid")
	alive "$holder" || die "$name is not up (no live holder in $state/holder.pid)"
	[ "$(ip netns identify "$holder" 2>/dev/null)" = "$name" ] ||
		die "holder $holder is not in netns $name"
	exec nsenter -t "$holder" -n -m --wd="$PWD" -- "$@"
}

# ---------------------------------------------------------------- restart-libvirtd
# Stops libvirtd (as a crash or an upgrade would), waits DOWN seconds, and
# starts it again in the same namespaces: for testing that footprint rides
# through a daemon that goes away mid-operation. VMs keep running meanwhile.
do_restart_libvirtd() {
	local name=$1 down=$2 state holder pid i
	state=$(state_dir "$name")
	holder=$(read_pid "$state/holder.pid")
	alive "$holder" || die "$name is not up"
	pid=$(read_pid "$state/libvirtd.pid")
	if alive "$pid"; then
		kill -TERM "$pid"
		i=0
		while alive "$pid" && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		alive "$pid" && kill -KILL "$pid"
	fi
	sleep "$down"
	nsenter -t "$holder" -n -m -- libvirtd -d -p "$state/libvirtd.pid" </dev/null >>"$state/daemons.log" 2>&1 ||
		die "libvirtd failed to start again (see $state/daemons.log)"
	i=0
	until nsenter -t "$holder" -n -m -- virsh -q -c qemu:///system version </dev/null >/dev/null 2>&1; do
		[ "$i" -lt 300 ] || die "libvirtd did not answer again within 30 s"
		sleep 0.1
		i=$((i + 1))
	done
	echo "libvirt-netns: $name: libvirtd restarted after ${down} s down (pid $(read_pid "$state/libvirtd.pid"))" >&2
}

# ---------------------------------------------------------------- status
do_status() {
	local name=$1 state f p ids pids up=0 total=0
	state=$(state_dir "$name")
	if netns_exists "$name"; then
		echo "netns     $name: present"
		up=$((up + 1))
	else
		echo "netns     $name: absent"
	fi
	total=$((total + 1))
	if [ -d "$state" ]; then echo "state dir $state: present"; else echo "state dir $state: absent"; fi
	for f in holder virtlogd libvirtd; do
		total=$((total + 1))
		p=$(read_pid "$state/$f.pid")
		if [ -z "$p" ]; then
			printf '%-9s -: no pid file\n' "$f"
		elif alive "$p"; then
			printf '%-9s %s: alive\n' "$f" "$p"
			up=$((up + 1))
		else
			printf '%-9s %s: dead\n' "$f" "$p"
		fi
	done
	ids=$(netns_ids "$name" "$state")
	pids=$(pids_in "$ids")
	echo "processes in the namespace: $(echo "$pids" | grep -c . || true)"
	# shellcheck disable=SC2086
	[ -z "$pids" ] || describe_pids $pids
	if [ "$up" -eq "$total" ]; then return 0; fi
	if [ "$up" -eq 0 ] && [ -z "$pids" ]; then return 3; fi
	return 1
}

# ---------------------------------------------------------------- main
[ "$(id -u)" -eq 0 ] || die "must run as root"
[ $# -ge 2 ] || usage
cmd=$1
name=$2
check_name "$name"
shift 2
case "$cmd" in
up)
	[ $# -eq 0 ] || usage
	do_up "$name"
	;;
down)
	[ $# -eq 0 ] || usage
	do_down "$name"
	;;
status)
	[ $# -eq 0 ] || usage
	do_status "$name"
	;;
exec)
	[ "${1:-}" = -- ] && shift
	[ $# -ge 1 ] || usage
	do_exec "$name" "$@"
	;;
restart-libvirtd)
	[ $# -le 1 ] || usage
	do_restart_libvirtd "$name" "${1:-0}"
	;;
*) usage ;;
esac
