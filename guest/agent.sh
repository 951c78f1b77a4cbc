#!/bin/sh
# footprint-agent: runs a profile's phases after cloud-init has finished,
# samples /proc/meminfo, writes one JSON result and only then serves it.
#
# Why a shell: while samples are taken nothing but this one shell may be
# resident in the guest, or the agent would measure itself. The sampling loop
# uses builtins only (read, arithmetic); the one fork per sample is `free`,
# whose own "used" column is recorded next to MemTotal - MemAvailable.
#
# Settings come from /etc/footprint/agent.env; the FOOTPRINT_* variables let
# the tests point the agent at fixture trees instead of the real /proc.
set -u

conf=${FOOTPRINT_CONF:-/etc/footprint/agent.env}
# shellcheck source=/dev/null
. "$conf"
: "${NODE:?NODE is not set in $conf}"
: "${PROFILE:?PROFILE is not set in $conf}"
: "${ADDRESS:=}" "${PORT:=9779}" "${SETTLE:=60}" "${SAMPLES:=5}" "${INTERVAL:=5}"
: "${INSTALL_TIMEOUT:=1800}" "${READY_TIMEOUT:=900}"

state=${FOOTPRINT_STATE:-/var/lib/footprint}
hooks=${FOOTPRINT_HOOKS:-/etc/footprint/profile.sh}
proc=${FOOTPRINT_PROC:-/proc}
os_release=${FOOTPRINT_OS_RELEASE:-/etc/os-release}
boot_finished=${FOOTPRINT_BOOT_FINISHED:-/var/lib/cloud/instance/boot-finished}
www=$state/www
result=$www/result.json

phases=""
samples=""
status=running
detail=""
up=0

say() {
	# One line per event on stdout, which the unit sends to the serial console:
	# progress for the runner, and the fallback when the network is gone.
	echo "footprint: node=$NODE $*"
}

read_uptime() {
	read -r up _ <"$proc/uptime"
}

json_escape() {
	# Strings here are short (OS names, log tails); sed runs outside sampling.
	printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' | awk 'NR>1{printf "\\n"} {printf "%s", $0}'
}

write_result() {
	tmp=$result.tmp
	{
		printf '{"schemaVersion":1,"node":"%s","profile":"%s","status":"%s"' "$NODE" "$PROFILE" "$status"
		[ -z "$detail" ] || printf ',"detail":"%s"' "$(json_escape "$detail")"
		printf ',"os":{"prettyName":"%s","kernel":"%s"}' "$(json_escape "$os_name")" "$(json_escape "$kernel")"
		[ -z "$system_version" ] || printf ',"systemVersion":"%s"' "$(json_escape "$system_version")"
		printf ',"settings":{"settleSeconds":%s,"samples":%s,"intervalSeconds":%s}' "$SETTLE" "$SAMPLES" "$INTERVAL"
		[ -z "$agent_rss" ] || printf ',"agentRssKiB":%s' "$agent_rss"
		printf ',"phases":[%s],"samples":[%s]}\n' "$phases" "$samples"
	} >"$tmp" && mv -f "$tmp" "$result"
}

# phase NAME STATUS STARTED: records a finished phase the moment it ends.
phase() {
	read_uptime
	phases="${phases:+$phases,}{\"name\":\"$1\",\"status\":\"$2\",\"startedAt\":$3,\"endedAt\":$up}"
	say "phase=$1 status=$2 uptime=$up"
	write_result
}

# run_hook NAME TIMEOUT: runs one profile hook in its own shell, bounded.
run_hook() {
	read_uptime
	started=$up
	if ! grep -q "^fp_$1()" "$hooks" 2>/dev/null; then
		phase "$1" skipped "$started"
		return 0
	fi
	say "phase=$1 status=started uptime=$up"
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout "$2" sh -c '. "$1"; "fp_$2"' hook "$hooks" "$1" >>"$state/hooks.log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		phase "$1" ok "$started"
		return 0
	elif [ "$rc" -eq 124 ]; then
		phase "$1" timeout "$started"
	else
		phase "$1" failed "$started"
	fi
	status=failed
	detail="hook $1 exited $rc; last lines of its log: $(tail -n 20 "$state/hooks.log")"
	write_result
	return 1
}

sample() {
	# Builtins only between reading /proc/meminfo and recording it.
	mt=0 mf=0 ma=0 bu=0 ca=0 sr=0 sh=0 st=0 sf=0
	while read -r key value _; do
		case $key in
		MemTotal:) mt=$value ;;
		MemFree:) mf=$value ;;
		MemAvailable:) ma=$value ;;
		Buffers:) bu=$value ;;
		Cached:) ca=$value ;;
		SReclaimable:) sr=$value ;;
		Shmem:) sh=$value ;;
		SwapTotal:) st=$value ;;
		SwapFree:) sf=$value ;;
		esac
	done <"$proc/meminfo"
	read_uptime
	# free's own "used" column, in KiB, as a reader of the seed post would see it.
	free_used=$(free -k 2>/dev/null | { read -r _ && read -r _ _ u _ && echo "$u"; })
	samples="${samples:+$samples,}{\"phase\":\"$1\",\"uptimeSeconds\":$up,\"usedKiB\":$((mt - ma)),\"freeUsedKiB\":${free_used:-null},\"meminfoKiB\":{\"MemTotal\":$mt,\"MemFree\":$mf,\"MemAvailable\":$ma,\"Buffers\":$bu,\"Cached\":$ca,\"SReclaimable\":$sr,\"Shmem\":$sh,\"SwapTotal\":$st,\"SwapFree\":$sf}}"
	say "sample phase=$1 uptime=$up usedKiB=$((mt - ma)) memTotalKiB=$mt"
}

read_os() {
	os_name=unknown
	while IFS='=' read -r k v; do
		if [ "$k" = PRETTY_NAME ]; then
			v=${v#\"}
			os_name=${v%\"}
		fi
	done <"$os_release"
	kernel=unknown
	read -r kernel <"$proc/sys/kernel/osrelease" || true
}

read_agent_rss() {
	agent_rss=""
	[ -r "$proc/$$/status" ] || return 0
	while read -r key value _; do
		[ "$key" = VmRSS: ] && agent_rss=$value
	done <"$proc/$$/status"
}

serve() {
	# Only after the last sample: python3 is on every cloud image (cloud-init
	# needs it) and its size no longer matters once the figures are taken.
	[ -n "${FOOTPRINT_NO_SERVE:-}" ] && return 0
	say "serving http://$ADDRESS:$PORT/result.json"
	while :; do
		python3 -m http.server --bind "$ADDRESS" --directory "$www" "$PORT" >/dev/null 2>&1
		sleep 2 # the address may not be configured yet: try again
	done
}

mkdir -p "$www"
system_version=""
agent_rss=""
read_os

# A restarted agent (reboot, unit restart) serves what it measured; it does
# not measure a machine that has been running for a different time.
if [ -s "$result" ] && ! grep -q '"status":"running"' "$result"; then
	say "phase=done status=$(sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' "$result" | head -n 1) uptime=restart"
	serve
	exit 0
fi

read_uptime
agent_started=$up
# Started by runcmd with --no-block and ordered after cloud-final.service, so
# cloud-init is done; the boot-finished file is the belt to those braces.
while [ ! -e "$boot_finished" ]; do
	sleep 1
done
phase boot ok 0
say "phase=agent status=started uptime=$agent_started"

if run_hook install "$INSTALL_TIMEOUT" && run_hook ready "$READY_TIMEOUT"; then
	if grep -q '^fp_version()' "$hooks" 2>/dev/null; then
		# shellcheck disable=SC2016 # expanded by the inner shell
		system_version=$(timeout 60 sh -c '. "$1"; fp_version' hook "$hooks" 2>>"$state/hooks.log" | head -n 1)
	fi
	read_uptime
	started=$up
	sleep "$SETTLE"
	phase settle ok "$started"

	read_uptime
	started=$up
	i=0
	while [ "$i" -lt "$SAMPLES" ]; do
		[ "$i" -eq 0 ] || sleep "$INTERVAL"
		sample idle
		i=$((i + 1))
	done
	read_agent_rss
	phase idle ok "$started"
	status=ok
fi

write_result
say "phase=done status=$status uptime=$up"
serve
