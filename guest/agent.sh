#!/bin/sh
# footprint-agent: runs a profile's phases after cloud-init has finished,
# samples /proc/meminfo, writes one JSON result and only then serves it.
#
# Phases: boot, install, ready, settle, idle (samples), workload,
# workloadReady, settle-workload, workload (samples), api, with SOAK set
# soak, then done. Each is
# written to the result file and printed on the serial console the moment
# it ends, so a guest that thrashes or loses its network still leaves the
# phases it finished. Beside the phases: a timeline of memory and its
# pressure, and through the workload the API's answers over time.
#
# Why a shell: while samples are taken nothing but this one shell may be
# resident in the guest, or the agent would measure itself. The sampling loop
# uses builtins only (read, arithmetic); the one fork per sample is `free`,
# whose own "used" column is recorded next to MemTotal - MemAvailable.
#
# Settings come from /etc/footprint/agent.env (and the 0600 secret.env); the
# FOOTPRINT_* variables let the tests point the agent at fixture trees
# instead of the real /proc and /sys/fs/cgroup.
set -u

conf=${FOOTPRINT_CONF:-/etc/footprint/agent.env}
secret_conf=${FOOTPRINT_SECRET_CONF:-/etc/footprint/secret.env}
# shellcheck source=/dev/null
. "$conf"
if [ -r "$secret_conf" ]; then
	# shellcheck source=/dev/null
	. "$secret_conf"
fi
: "${NODE:?NODE is not set in $conf}"
: "${PROFILE:?PROFILE is not set in $conf}"
: "${ADDRESS:=}" "${PORT:=9779}" "${SETTLE:=60}" "${SAMPLES:=5}" "${INTERVAL:=5}"
: "${INSTALL_TIMEOUT:=1800}" "${READY_TIMEOUT:=900}" "${WORKLOAD_TIMEOUT:=900}"
: "${API_ATTEMPTS:=5}" "${API_TIMEOUT:=10}" "${API_CLIENT:=}" "${API_SERIES_INTERVAL:=10}"
: "${VERSION:=}" "${WORKLOAD_IMAGE:=mysql:8.4}" "${UNITS:=}" "${PREINSTALLED:=0}" "${MYSQL_PASSWORD:=}"
: "${ARTIFACTS_LABEL:=}" "${TIMELINE_INTERVAL:=5}" "${TIMELINE_POINTS:=512}"
: "${SOAK:=0}" "${SOAK_INTERVAL:=5}" "${SOAK_POINTS:=512}"
: "${SETTLE_TOLERANCE_KIB:=0}" "${SETTLE_WINDOW:=60}" "${SETTLE_MAX:=600}"
# What the profile hooks may read; RUN_DIR is their root-only scratch folder,
# ARTIFACTS the read-only folder of an offline install, FACTS a file of
# "key=value" lines that the result records.
MYSQL_IMAGE=$WORKLOAD_IMAGE
RUN_DIR=${FOOTPRINT_RUN_DIR:-/run/footprint}
ARTIFACTS=${FOOTPRINT_ARTIFACTS:-/run/footprint-artifacts}
FACTS=$RUN_DIR/facts
export VERSION MYSQL_PASSWORD MYSQL_IMAGE API_TIMEOUT RUN_DIR ARTIFACTS FACTS
# The same, and PATH, for the hooks that run in a unit of their own, which
# inherits nothing from the agent (call_hook).
hook_vars="PATH VERSION MYSQL_PASSWORD MYSQL_IMAGE API_TIMEOUT RUN_DIR ARTIFACTS FACTS"

state=${FOOTPRINT_STATE:-/var/lib/footprint}
hooks=${FOOTPRINT_HOOKS:-/etc/footprint/profile.sh}
proc=${FOOTPRINT_PROC:-/proc}
cgroup=${FOOTPRINT_CGROUP:-/sys/fs/cgroup}
os_release=${FOOTPRINT_OS_RELEASE:-/etc/os-release}
boot_finished=${FOOTPRINT_BOOT_FINISHED:-/var/lib/cloud/instance/boot-finished}
cloud_init_log=${FOOTPRINT_CLOUD_INIT_LOG:-/var/log/cloud-init-output.log}
retry_pause=${FOOTPRINT_RETRY_PAUSE:-5}
# Present when systemd is the init system (sd_booted(3)'s test): then the
# hooks run in transient units of their own.
run_systemd=${FOOTPRINT_RUN_SYSTEMD:-/run/systemd/system}
page_kib=$(($(getconf PAGESIZE 2>/dev/null || echo 4096) / 1024))
www=$state/www
result=$www/result.json
hook_log=$state/hooks.log
timeline_file=$state/timeline

phases=""
samples=""
breakdowns=""
api_json=""
status=running
detail=""
system_version=""
agent_rss=""
timeline_json=""
answers_json=""
timeline_pid=""
api_series_json=""
oom_events_json=""
series_pid=""
soak_json=""
series_on=0
series_last=0
up=0
hook_calls=0

say() {
	# One line per event on stdout, which the unit sends to the serial console:
	# progress for the runner, and the fallback when the network is gone.
	echo "footprint: node=$NODE $*"
}

read_uptime() {
	read -r up _ <"$proc/uptime"
}

json_escape() {
	# Strings here are short (names, log tails); sed runs outside sampling.
	printf '%s' "$1" | tr -d '\000-\010\013-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' |
		awk 'NR>1{printf "\\n"} {printf "%s", $0}'
}

write_result() {
	tmp=$result.tmp
	{
		printf '{"schemaVersion":1,"node":"%s","profile":"%s","status":"%s"' "$NODE" "$PROFILE" "$status"
		[ -z "$detail" ] || printf ',"detail":"%s"' "$(json_escape "$detail")"
		printf ',"os":{"prettyName":"%s","kernel":"%s"}' "$(json_escape "$os_name")" "$(json_escape "$kernel")"
		[ -z "$VERSION" ] || printf ',"requestedVersion":"%s"' "$(json_escape "$VERSION")"
		[ -z "$system_version" ] || printf ',"systemVersion":"%s"' "$(json_escape "$system_version")"
		printf ',"settings":{"settleSeconds":%s,"samples":%s,"intervalSeconds":%s' "$SETTLE" "$SAMPLES" "$INTERVAL"
		[ "$SETTLE_TOLERANCE_KIB" -le 0 ] ||
			printf ',"settleRule":{"toleranceKiB":%s,"windowSeconds":%s,"maxSeconds":%s}' "$SETTLE_TOLERANCE_KIB" "$SETTLE_WINDOW" "$SETTLE_MAX"
		printf '}'
		[ -z "$agent_rss" ] || printf ',"agentRssKiB":%s' "$agent_rss"
		[ -z "$api_json" ] || printf ',"api":%s' "$api_json"
		[ -z "$api_series_json" ] || printf ',"apiSeries":%s' "$api_series_json"
		[ -z "$oom_events_json" ] || printf ',"oomKillEvents":[%s]' "$oom_events_json"
		facts_json
		[ -z "$answers_json" ] || printf ',"apiAnswers":[%s]' "$answers_json"
		[ -z "$timeline_json" ] || printf ',"timeline":%s' "$timeline_json"
		[ -z "$soak_json" ] || printf ',"soak":%s' "$soak_json"
		printf ',"phases":[%s],"samples":[%s],"breakdowns":[%s]}\n' "$phases" "$samples" "$breakdowns"
	} >"$tmp" && mv -f "$tmp" "$result"
}

# facts_json: the hooks' "key=value" lines as a JSON object, the last value
# of a key winning, or nothing.
facts_json() {
	[ -s "$FACTS" ] || return 0
	printf ',"facts":{'
	awk -F= '$1 ~ /^[A-Za-z0-9_.-]+$/ && NF > 1 {
			v = substr($0, length($1) + 2)
			if (!($1 in val)) order[++n] = $1
			val[$1] = v
		}
		END { for (i = 1; i <= n; i++) printf "%s\t%s\n", order[i], val[order[i]] }' "$FACTS" |
		while IFS="$(printf '\t')" read -r k v; do
			printf '"%s":"%s"\n' "$k" "$(json_escape "$v")"
		done | paste -sd, -
	printf '}'
}

# api_answers: the first and last answer the profile's hooks kept of each
# API path (profiles/lib/kubernetes.sh, k8s_keep_answer), raw, for the
# result: what the real server wrote is what the test stub answers with.
api_answers() {
	for f in "$RUN_DIR"/k8s-api/answers/*.path; do
		[ -r "$f" ] || continue
		read -r path <"$f"
		for which in first last; do
			http=${f%.path}.$which.http
			[ -r "$http" ] || continue
			printf '{"path":"%s","which":"%s","http":"%s"}\n' "$(json_escape "$path")" "$which" "$(json_escape "$(cat "$http")")"
		done
	done | paste -sd, -
}

# phase NAME STATUS STARTED: records a finished phase the moment it ends.
# Facts the hooks wrote since the last phase go to the console too, so that
# a result rebuilt from it keeps them.
phase() {
	read_uptime
	phases="${phases:+$phases,}{\"name\":\"$1\",\"status\":\"$2\",\"startedAt\":$3,\"endedAt\":$up}"
	say "phase=$1 status=$2 uptime=$up"
	say_facts
	write_result
}

# say_facts: each fact line not said yet, as "fact KEY=VALUE".
facts_said=0
say_facts() {
	[ -s "$FACTS" ] || return 0
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[ "$n" -gt "$facts_said" ] || continue
		case ${line%%=*} in '' | *[!A-Za-z0-9_.-]*) continue ;; esac
		say "fact $line"
	done <"$FACTS"
	facts_said=$n
}

has_hook() {
	grep -q "^fp_$1()" "$hooks" 2>/dev/null
}

# call_hook NAME TIMEOUT: one run of a hook in its own shell, bounded; its
# output goes to the hook log, never to the console (it may hold secrets).
# Under systemd it runs in a transient service of its own (unit_hook):
# install, installOffline, configure and workload, and the ready and
# workloadReady checks, which all go through here, install or start the
# system or ask it with its own clients, and the page cache they fill (an
# image import, the binaries they run) is charged to the cgroup that first
# reads it. In the agent's cgroup it was read as the instrument's cost;
# in the hook's own it is the system's (docs/accounting.md). Only the
# version and api hooks (hook_output) stay in the agent's cgroup: one short
# request each, probed every few seconds through the workload, where a
# unit per probe would cost more than the probe.
call_hook() {
	if [ -d "$run_systemd" ]; then
		unit_hook "$1" "$2"
		return
	fi
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout "$2" sh -c '. "$1"; "fp_$2"' hook "$hooks" "$1" >>"$hook_log" 2>&1
}

# unit_hook NAME TIMEOUT: call_hook in a transient service,
# footprint-hook-NAME-N.service (N counts the agent's hook calls, so that a
# retried check never meets the unit of its last try before systemd has
# unloaded it). systemd-run waits for it and exits with its exit status;
# --pipe hands it the hook log itself. The timeout stays the agent's: on
# 124 the unit is stopped, which ends every process it started. The unit
# is bound to the agent's, so stopping or losing the agent stops the hook
# too, and RuntimeMaxSec ends it should the agent not. It inherits nothing
# from the agent: the variables the hooks read come from a root-only file.
unit_hook() {
	hook_calls=$((hook_calls + 1))
	h_name=$1 h_secs=$2 h_unit=footprint-hook-$1-$hook_calls.service
	write_hook_env || return 1
	set -- --unit="$h_unit" --description="footprint hook $h_name" --wait --pipe --collect --quiet \
		--service-type=exec -p RuntimeMaxSec=$((h_secs + 60)) -p TimeoutStopSec=15
	[ -z "$agent_unit" ] || set -- "$@" -p "BindsTo=$agent_unit" -p "After=$agent_unit"
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout "$h_secs" systemd-run "$@" /bin/sh -c '. "$1"; . "$2"; "fp_$3"' hook "$hook_env" "$hooks" "$h_name" \
		</dev/null >>"$hook_log" 2>&1
	h_rc=$?
	if [ "$h_rc" -eq 124 ]; then
		# Quietly: the unit is often gone by now (2026-12-07, docker run at
		# 192 MiB), and a "not loaded" would bury the hook's own last lines,
		# which the result's detail quotes.
		systemctl stop "$h_unit" >/dev/null 2>&1 || :
	fi
	return "$h_rc"
}

# write_hook_env: hook_env, a root-only file exporting hook_vars with the
# agent's values, for the hooks' units.
hook_env=$RUN_DIR/hook.env
write_hook_env() {
	(
		umask 077
		for v in $hook_vars; do
			eval "val=\${$v-}"
			# shellcheck disable=SC2154 # set by the eval
			printf "export %s='%s'\n" "$v" "$(printf '%s' "$val" | sed "s/'/'\\\\''/g")"
		done >"$hook_env.tmp"
	) && mv -f "$hook_env.tmp" "$hook_env"
}

# agent_cgroup: agent_cg, the agent's own cgroup (its path under the
# cgroup root), and agent_unit, its service when it runs as one.
agent_cgroup() {
	agent_cg=""
	if [ -r "$proc/$$/cgroup" ]; then
		while IFS= read -r line; do
			case $line in 0::/?*) agent_cg=${line#0::/} ;; esac
		done <"$proc/$$/cgroup"
	fi
	[ -n "$agent_cg" ] || agent_cg=system.slice/footprint-agent.service
	agent_unit=""
	case ${agent_cg##*/} in *.service) agent_unit=${agent_cg##*/} ;; esac
}

# hook_output NAME TIMEOUT: a hook whose standard output is its answer.
hook_output() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout "$2" sh -c '. "$1"; "fp_$2"' hook "$hooks" "$1" 2>>"$hook_log"
}

fail() {
	status=failed
	detail="$1; last lines of the hook log: $(tail -n 20 "$hook_log" 2>/dev/null | redact); last lines of cloud-init's output: $(tail -n 10 "$cloud_init_log" 2>/dev/null | redact)"
	write_result
}

# redact: stdin without the tokens, keys and passwords a hook's log shows.
redact() {
	sed -E -e 's/[a-z0-9]{6}\.[a-z0-9]{16}|^ *[0-9a-f]{64} *$/<redacted>/g' \
		-e 's/(--(token|certificate-key|password)[= ]+|[Bb]earer +|([Pp]ass(word|wd)|PASSWORD|PWD|[Tt]oken|TOKEN|[Ss]ecret|SECRET)"?[=:] *"?)[^ ",]+/\1<redacted>/g' |
		awk 'BEGIN { p = ENVIRON["MYSQL_PASSWORD"] }
			p != "" { o = ""; while (i = index($0, p)) { o = o substr($0, 1, i - 1) "<redacted>"; $0 = substr($0, i + length(p)) } $0 = o $0 } 1'
}

# begin_hook PHASE [HOOK]: starts a hook's phase; when the profile has no
# such hook it records the phase as skipped and returns 1.
begin_hook() {
	read_uptime
	started=$up
	if ! has_hook "${2:-$1}"; then
		phase "$1" skipped "$started"
		return 1
	fi
	say "phase=$1 status=started uptime=$up"
}

# run_hook PHASE TIMEOUT [HOOK]: a step that runs once (HOOK defaults to the
# phase's own).
run_hook() {
	begin_hook "$1" "${3:-$1}" || return 0
	call_hook "${3:-$1}" "$2"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		phase "$1" ok "$started"
		return 0
	elif [ "$rc" -eq 124 ]; then
		phase "$1" timeout "$started"
	else
		phase "$1" failed "$started"
	fi
	fail "hook ${3:-$1} exited $rc"
	return 1
}

# wait_hook NAME TIMEOUT: a check retried until it passes or time runs out.
wait_hook() {
	begin_hook "$1" || return 0
	deadline=$(($(date +%s) + $2))
	while :; do
		left=$((deadline - $(date +%s)))
		if [ "$left" -le 0 ]; then
			phase "$1" timeout "$started"
			return 1
		fi
		[ "$left" -lt 120 ] || left=120
		if call_hook "$1" "$left"; then
			phase "$1" ok "$started"
			return 0
		fi
		sleep "$retry_pause"
	done
}

# read_meminfo: every field of /proc/meminfo as JSON members in fields,
# MemTotal and MemAvailable in mt and ma. Builtins only.
read_meminfo() {
	mt=0 ma=0 fields=""
	while read -r key value _; do
		key=${key%:}
		case $key in
		MemTotal) mt=$value ;;
		MemAvailable) ma=$value ;;
		esac
		fields="${fields:+$fields,}\"$key\":$value"
	done <"$proc/meminfo"
}

sample() {
	# Builtins only between reading /proc/meminfo and recording it. Every
	# field is kept: where "used" goes is not always where one expects.
	read_meminfo
	read_uptime
	pcp_free
	# free's own "used" column, in KiB, as a reader of the seed post would see it.
	free_used=$(free -k 2>/dev/null | { read -r _ && read -r _ _ u _ && echo "$u"; })
	case $free_used in '' | *[!0-9]*) free_used=null ;; esac
	samples="${samples:+$samples,}{\"phase\":\"$1\",\"uptimeSeconds\":$up,\"usedKiB\":$((mt - ma)),\"freeUsedKiB\":$free_used${pcp:+,\"pcpFreeKiB\":$pcp},\"meminfoKiB\":{$fields}}"
	say "sample phase=$1 uptime=$up usedKiB=$((mt - ma)) memTotalKiB=$mt"
}

# take_samples PHASE: the configured readings, after the samples the phase
# is recorded.
take_samples() {
	read_uptime
	started=$up
	i=0
	while [ "$i" -lt "$SAMPLES" ]; do
		[ "$i" -eq 0 ] || sleep "$INTERVAL"
		sample "$1"
		[ "$series_on" -eq 0 ] || api_series_after_sample
		i=$((i + 1))
	done
	phase "$1" ok "$started"
}

# settle NAME: the fixed wait, then, with a tolerance set, the settle rule:
# the phase ends "unsettled" when the cap passes first.
settle() {
	read_uptime
	started=$up
	sleep "$SETTLE"
	st=ok
	if [ "$SETTLE_TOLERANCE_KIB" -gt 0 ] && ! settled; then
		st=unsettled
	fi
	phase "$1" "$st" "$started"
}

# settled: waits until used has stayed within SETTLE_TOLERANCE_KIB over the
# last SETTLE_WINDOW seconds, reading it every twelfth of the window
# (builtins only), for at most SETTLE_MAX seconds; 1 when the cap passed.
settled() {
	step=$((SETTLE_WINDOW / 12))
	[ "$step" -ge 1 ] || step=1
	need=$((SETTLE_WINDOW / step + 1)) win="" n=0 waited=0
	while :; do
		mem_now
		win="$win $used" n=$((n + 1))
		if [ "$n" -gt "$need" ]; then
			win=${win# }
			win=" ${win#* }" n=$need
		fi
		if [ "$n" -eq "$need" ]; then
			lo=$used hi=$used
			for v in $win; do
				[ "$v" -ge "$lo" ] || lo=$v
				[ "$v" -le "$hi" ] || hi=$v
			done
			[ $((hi - lo)) -gt "$SETTLE_TOLERANCE_KIB" ] || return 0
		fi
		[ "$waited" -lt "$SETTLE_MAX" ] || return 1
		sleep "$step"
		waited=$((waited + step))
	done
}

cgroup_kib() {
	# memory.current of a cgroup folder in KiB, or null.
	v=null
	if [ -r "$1/memory.current" ]; then
		read -r v <"$1/memory.current"
		case $v in '' | *[!0-9]*) v=null ;; *) v=$((v / 1024)) ;; esac
	fi
	echo "$v"
}

# breakdown PHASE: where the memory is, taken after the phase's samples so
# that the forks it needs do not disturb them. The raw readings the used
# memory is split from come first, at one moment and with builtins only.
breakdown() {
	agent_self
	accounting
	units_json=""
	for u in $UNITS; do
		v=$(cgroup_kib "$cgroup/system.slice/$u")
		[ "$v" != null ] || v=$(cgroup_kib "$cgroup/$u")
		units_json="${units_json:+$units_json,}\"$(json_escape "$u")\":$v"
	done
	# The named units miss what runs beside them (pods under kubepods,
	# containers in their own scopes): every cgroup of at least 1 MiB at the
	# top and under system.slice is recorded too, and each pod (Guaranteed
	# pods sit right under kubepods, the others under their QoS class).
	groups_json=""
	for d in "$cgroup"/*/ "$cgroup"/system.slice/*/ "$cgroup"/kubepods*/*/ "$cgroup"/kubepods*/kubepods-*/*/; do
		[ -d "$d" ] || continue
		v=$(cgroup_kib "${d%/}")
		if [ "$v" = null ] || [ "$v" -lt 1024 ]; then
			continue
		fi
		name=${d#"$cgroup"/}
		groups_json="${groups_json:+$groups_json,}\"$(json_escape "${name%/}")\":$v"
	done
	table=$(proc_table)
	procs_json=$(printf '%s\n' "$table" | sort -rn | head -n 10 | while read -r rss pss pid _ name; do
		[ -n "$pid" ] || continue
		[ "$pss" != - ] || pss=null
		printf '{"pid":%s,"name":"%s","rssKiB":%s,"pssKiB":%s}\n' "$pid" "$(json_escape "$name")" "$rss" "$pss"
	done | paste -sd, -)
	by_cgroup_json=$(printf '%s\n' "$table" | procs_by_cgroup)
	oom_lines=$(dmesg 2>/dev/null | grep -i -E 'out of memory|oom-kill|killed process' | tail -n 5)
	oom_kills=$(printf '%s\n' "$oom_lines" | grep -c -i 'killed process')
	oom_json=$(printf '%s\n' "$oom_lines" | while IFS= read -r l; do
		[ -n "$l" ] && printf '"%s"\n' "$(json_escape "$l")"
	done | paste -sd, -)
	breakdowns="${breakdowns:+$breakdowns,}{\"phase\":\"$1\",\"unitsKiB\":{$units_json},\"cgroupsKiB\":{$groups_json},\"topProcesses\":[$procs_json],\"oomKills\":$oom_kills,\"kernelLog\":[$oom_json],\"processesByCgroup\":{$by_cgroup_json},\"accounting\":$accounting_json,\"agent\":$agent_json}"
	say "breakdown phase=$1 oomKills=$oom_kills"
	write_result
}

# agent_self: agent_json, the instrument's own cost at this moment: its
# cgroup's memory.current and memory.stat's anon and file (KiB), and the
# summed proportional set size of the processes in it (cgroup.procs, each
# one's smaps_rollup; null when none could be read). Read first, before the
# breakdown forks anything. Builtins only.
agent_self() {
	d=$cgroup/$agent_cg a_cur=null a_anon=null a_file=null a_pss=null a_n=0
	if [ -r "$d/memory.current" ]; then
		read -r v <"$d/memory.current"
		case $v in '' | *[!0-9]*) ;; *) a_cur=$((v / 1024)) ;; esac
	fi
	if [ -r "$d/memory.stat" ]; then
		while read -r key value; do
			case $value in '' | *[!0-9]*) continue ;; esac
			case $key in
			anon) a_anon=$((value / 1024)) ;;
			file) a_file=$((value / 1024)) ;;
			esac
		done <"$d/memory.stat"
	fi
	if [ -r "$d/cgroup.procs" ]; then
		while read -r pid; do
			a_n=$((a_n + 1))
			[ -r "$proc/$pid/smaps_rollup" ] || continue
			while read -r key value _; do
				[ "$key" = Pss: ] && a_pss=$((${a_pss#null} + value))
			done <"$proc/$pid/smaps_rollup" 2>/dev/null
		done <"$d/cgroup.procs"
	fi
	json_str "$agent_cg"
	agent_json="{\"cgroup\":\"$js\",\"cgroupKiB\":$a_cur,\"anonKiB\":$a_anon,\"fileKiB\":$a_file,\"pssKiB\":$a_pss,\"processes\":$a_n}"
}

# accounting: accounting_json, what used memory is split from
# (docs/accounting.md): /proc/meminfo, every zone of /proc/zoneinfo and
# memory.stat of the cgroups, read together with builtins; then the first
# per-CPU chunk's size from the boot log, which needs forks.
accounting() {
	read_meminfo
	read_zones
	cgroup_stats
	percpu_embedded
	accounting_json="{\"pageKiB\":$page_kib,\"meminfoKiB\":{$fields},\"zones\":[$zones]${pcpu_pages:+,\"percpuEmbeddedPages\":$pcpu_pages},\"memoryStatKiB\":{$stats}}"
}

# read_zones: zones, each zone of /proc/zoneinfo as a JSON object of the
# figures MemAvailable is computed from, in pages under the kernel's names
# (watermarks, managed pages, lowmem reserves as "protection"), with the
# free pages on its per-CPU lists summed over CPUs. Builtins only.
read_zones() {
	zones="" zone=""
	[ -r "$proc/zoneinfo" ] || return 0
	while read -r key value rest; do
		case $key in
		Node)
			zone_done
			zone="\"node\":${value%,},\"zone\":\"${rest##* }\"" pcpc=0 cpus=0
			;;
		pages) [ "$value" != free ] || zone_field free "$rest" ;;
		boost | min | low | high | spanned | present | managed) zone_field "$key" "$value" ;;
		protection:)
			p="$value $rest"
			p=${p#(}
			p=${p%)}
			case $p in *[!0-9,\ ]* | '') ;; *) zone="$zone,\"protection\":[$p]" ;; esac
			;;
		cpu:) cpus=$((cpus + 1)) ;;
		count:) pcpc=$((pcpc + value)) ;;
		esac
	done <"$proc/zoneinfo"
	zone_done
}

zone_field() {
	case $2 in '' | *[!0-9]*) ;; *) zone="$zone,\"$1\":$2" ;; esac
}

zone_done() {
	[ -z "$zone" ] || zones="${zones:+$zones,}{$zone,\"pcpCount\":$pcpc,\"cpus\":$cpus}"
	zone=""
}

# cgroup_stats: stats, memory.stat of every cgroup of at least 1 MiB down to
# the pods' containers, by path. Builtins only.
cgroup_stats() {
	stats=""
	for d in "$cgroup"/*/ "$cgroup"/*/*/ "$cgroup"/kubepods*/*/*/ "$cgroup"/kubepods*/*/*/*/; do
		[ -r "${d}memory.current" ] || continue
		[ -r "${d}memory.stat" ] || continue
		read -r cur <"${d}memory.current" || continue
		case $cur in '' | *[!0-9]*) continue ;; esac
		[ "$cur" -ge 1048576 ] || continue
		memstat "${d}memory.stat"
		name=${d#"$cgroup"/}
		json_str "${name%/}"
		stats="${stats:+$stats,}\"$js\":{$ms}"
	done
}

# memstat FILE: ms, the fields of a memory.stat the accounting reads, in
# KiB (the file says bytes). Builtins only.
memstat() {
	ms=""
	while read -r key value; do
		case $key in
		anon | shmem | file | active_anon | inactive_anon | unevictable)
			case $value in '' | *[!0-9]*) ;; *) ms="${ms:+$ms,}\"$key\":$((value / 1024))" ;; esac
			;;
		esac
	done <"$1"
}

# json_str S: js, S with its backslashes and double quotes escaped, for
# names the kernel and systemd make (cgroup paths: "serial\x2dgetty").
# Builtins only.
json_str() {
	js="" s=$1
	while :; do
		case $s in
		*[\\\"]*)
			pre=${s%%[\\\"]*}
			s=${s#"$pre"}
			js="$js$pre\\${s%"${s#?}"}"
			s=${s#?}
			;;
		*)
			js="$js$s"
			return 0
			;;
		esac
	done
}

# percpu_embedded: pcpu_pages, the first per-CPU chunk's pages per CPU
# ("percpu: Embedded 61 pages/cpu" at boot): Percpu counts them, MemTotal
# does not. Looked up until found.
percpu_embedded() {
	[ -z "${pcpu_pages:-}" ] || return 0
	pcpu_pages=$(dmesg 2>/dev/null | sed -n 's/.*percpu: Embedded \([0-9][0-9]*\) pages\/cpu.*/\1/p' | head -n 1)
}

# proc_table: "rss pss pid cgroup name" for every process with a resident
# set (kernel threads have none): its proportional set size from
# smaps_rollup ("-" where unreadable) and its cgroup v2 path ("/" for the
# root). Builtins only, in the subshell that captures it.
proc_table() {
	for f in "$proc"/[0-9]*/status; do
		[ -r "$f" ] || continue
		name="" rss=0 pid=""
		while read -r key value _; do
			case $key in
			Name:) name=$value ;;
			Pid:) pid=$value ;;
			VmRSS:) rss=$value ;;
			esac
		done <"$f" 2>/dev/null
		[ -n "$pid" ] || continue
		[ "$rss" -gt 0 ] || continue
		d=${f%/status} pss=- cg=/
		if [ -r "$d/smaps_rollup" ]; then
			while read -r key value _; do
				[ "$key" != Pss: ] || pss=$value
			done <"$d/smaps_rollup" 2>/dev/null
		fi
		if [ -r "$d/cgroup" ]; then
			while IFS= read -r line; do
				case $line in 0::/?*) cg=${line#0::/} ;; esac
			done <"$d/cgroup" 2>/dev/null
		fi
		printf '%s %s %s %s %s\n' "$rss" "$pss" "$pid" "$cg" "$name"
	done
}

# procs_by_cgroup: proc_table's lines on standard input summed by cgroup,
# as JSON members: PSS (null when none was readable), RSS, how many
# processes, and the name of the largest by RSS.
procs_by_cgroup() {
	awk '$3 != "" {
			name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ ?/, "", name)
			n[$4]++; rss[$4] += $1
			if ($2 ~ /^[0-9]+$/) pss[$4] += $2
			if ($1 > top[$4]) { top[$4] = $1; largest[$4] = name }
		}
		END { for (k in n) printf "%s %d %d %s %s\n", (k in pss) ? pss[k] : "null", rss[k], n[k], k, largest[k] }' |
		while read -r pss rss n cg name; do
			json_str "$cg"
			cg=$js
			json_str "$name"
			printf '"%s":{"pssKiB":%s,"rssKiB":%s,"processes":%s,"largest":"%s"}\n' "$cg" "$pss" "$rss" "$n" "$js"
		done | paste -sd, -
}

# api_answer: code and secs, the HTTP code (0 for no answer) and seconds
# (null when not said) of one run of the profile's api hook, bounded.
api_answer() {
	out=$(hook_output api $((API_TIMEOUT + 5)) | tail -n 1)
	code=${out%% *} secs=${out#* }
	case $code in '' | *[!0-9]*) code=0 ;; esac
	code=${code#"${code%%[!0]*}"} # "000" (no answer) is not a JSON number
	[ -n "$code" ] || code=0
	case $secs in '' | *[!0-9.]* | *.*.*) secs=null ;; esac
}

# The API over time: from the workload's start through the settle after it
# and its samples, the api hook every API_SERIES_INTERVAL seconds (0: off),
# each answer a line "uptime code seconds" of series_file. A probe forks
# (the hook's curl), so none may run while a sample is read: a background
# loop probes until the workload's samples, then the agent itself probes
# right after each sample, before the sleep to the next. The final probe
# (api_probe, the api phase) and its verdict are apart from this.
series_file=$state/api-series

# api_series_point: one probe, appended to the series.
api_series_point() {
	read_uptime
	at=$up
	api_answer
	echo "$at $code $secs" >>"$series_file"
}

# api_series_loop: a probe every API_SERIES_INTERVAL seconds, from one
# probe's start to the next's, until TERM. A probe under way ends and is
# recorded first (the shell runs the trap once the probe's command is
# done): nothing it started outlives the loop.
api_series_loop() {
	sleeper="" stop=0
	trap 'stop=1; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null' TERM
	while [ "$stop" -eq 0 ]; do
		read_uptime
		next=$((${up%.*} + API_SERIES_INTERVAL))
		api_series_point
		[ "$stop" -eq 0 ] || break
		read_uptime
		left=$((next - ${up%.*}))
		[ "$left" -ge 1 ] || left=1
		sleep "$left" &
		sleeper=$!
		wait "$sleeper"
	done
}

api_series_start() {
	[ "$API_SERIES_INTERVAL" -gt 0 ] || return 0
	has_hook api || return 0
	rm -f "$series_file"
	api_series_loop </dev/null >/dev/null 2>&1 &
	series_pid=$! series_on=1
}

# api_series_stop: ends the background loop (the samples follow), keeping
# in series_last the time of its last probe.
api_series_stop() {
	[ -n "$series_pid" ] || return 0
	kill -TERM "$series_pid" 2>/dev/null
	wait "$series_pid" 2>/dev/null
	series_pid="" series_last=0
	[ -r "$series_file" ] || return 0
	while read -r at _; do
		series_last=${at%.*}
	done <"$series_file"
}

# api_series_after_sample: a probe when the interval has passed since the
# last, right after a sample was read.
api_series_after_sample() {
	read_uptime
	[ $((${up%.*} - series_last)) -ge "$API_SERIES_INTERVAL" ] || return 0
	api_series_point
	series_last=${at%.*}
}

# api_series_end: the series as JSON, api_series_json.
api_series_end() {
	[ "$series_on" -eq 1 ] || return 0
	api_series_stop
	series_on=0
	json=""
	if [ -r "$series_file" ]; then
		while read -r at c s; do
			json="${json:+$json,}{\"uptimeSeconds\":$at,\"httpCode\":$c,\"seconds\":$s}"
		done <"$series_file"
	fi
	api_series_json="{\"intervalSeconds\":$API_SERIES_INTERVAL,\"points\":[$json]}"
}

# oom_events: oom_events_json, every OOM kill the kernel log holds, with its
# stamp (seconds since boot, the timeline's uptime on a guest that was never
# suspended) and the process killed. Once, at the end.
oom_events() {
	oom_events_json=$(dmesg 2>/dev/null |
		sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*[Kk]illed process [0-9][0-9]* (\(.*\)).*/\1 \2/p' |
		while read -r at name; do
			json_str "${name%%)*}"
			printf '{"uptimeSeconds":%s,"process":"%s"}\n' "$at" "$js"
		done | paste -sd, -)
}

# api_probe: bounded attempts of the profile's one-request API check.
api_probe() {
	read_uptime
	started=$up
	if ! has_hook api; then
		phase api skipped "$started"
		return 0
	fi
	attempts="" ok=0 i=0
	while [ "$i" -lt "$API_ATTEMPTS" ]; do
		[ "$i" -eq 0 ] || sleep 1
		api_answer
		if [ "$code" = 200 ]; then
			ok=$((ok + 1))
			success=true
		else
			success=false
		fi
		attempts="${attempts:+$attempts,}{\"httpCode\":$code,\"seconds\":$secs,\"ok\":$success}"
		i=$((i + 1))
	done
	if [ "$ok" -eq "$API_ATTEMPTS" ]; then
		verdict=responsive
	elif [ "$ok" -eq 0 ]; then
		verdict=unresponsive
	else
		verdict=degraded
	fi
	api_json="{\"client\":\"$(json_escape "$API_CLIENT")\",\"attempts\":[$attempts],\"successes\":$ok,\"verdict\":\"$verdict\"}"
	say "api verdict=$verdict successes=$ok attempts=$API_ATTEMPTS"
	phase api ok "$started"
}

# pcp_free: pcp, the KiB of free pages on the per-CPU lists of every zone
# (/proc/zoneinfo "count:"), which MemFree and MemAvailable leave out
# (docs/baseline.md); empty where zoneinfo cannot be read. Builtins only.
pcp_free() {
	pcp=""
	[ -r "$proc/zoneinfo" ] || return 0
	pages=0
	while read -r key value _; do
		[ "$key" != count: ] || pages=$((pages + value))
	done <"$proc/zoneinfo"
	pcp=$((pages * page_kib))
}

# mem_now: used and available KiB now, builtins only.
mem_now() {
	mt=0 ma=0
	while read -r key value _; do
		case $key in
		MemTotal:) mt=$value ;;
		MemAvailable:) ma=$value ;;
		esac
	done <"$proc/meminfo"
	used=$((mt - ma))
}

# psi_now: psi, ":some avg10:some total:full avg10:full total" of the
# kernel's memory pressure (/proc/pressure/memory: the share of the last
# 10 s some or all tasks stalled on memory, in %, and the stalls' sum
# since boot, in µs), or empty where the kernel does not say.
# Builtins only.
psi_file=$proc/pressure/memory
psi_now() {
	psi="" s10="" st="" f10="" ft=""
	[ -r "$psi_file" ] || return 0
	while read -r kind a10 _ _ tot; do
		case $kind in
		some) s10=${a10#avg10=} st=${tot#total=} ;;
		full) f10=${a10#avg10=} ft=${tot#total=} ;;
		esac
	done <"$psi_file" 2>/dev/null
	for v in "$s10" "$f10"; do
		case $v in '' | .* | *. | *[!0-9.]*) return 0 ;; esac
	done
	for v in "$st" "$ft"; do
		case $v in '' | *[!0-9]*) return 0 ;; esac
	done
	psi=":$s10:$st:$f10:$ft"
}

# timeline_loop: memory over time, from the agent's start to its result:
# "uptime:used:available" every $step seconds in one variable, with the
# memory pressure after it where the kernel gives it (psi_now), builtins
# only but for sleep. When it holds TIMELINE_POINTS points it keeps every
# other one and doubles the step, so it always spans the whole run in
# bounded memory. Written once, when the agent asks (TERM).
timeline_loop() {
	step=$TIMELINE_INTERVAL points="" n=0
	trap 'kill "$!" 2>/dev/null; printf "%s\n%s\n" "$step" "$points" >"$timeline_file.tmp" && mv -f "$timeline_file.tmp" "$timeline_file"; exit 0' TERM
	while :; do
		read_uptime
		mem_now
		psi_now
		points="$points $up:$used:$ma$psi"
		n=$((n + 1))
		[ "$n" -lt "$TIMELINE_POINTS" ] || timeline_halve
		sleep "$step" &
		wait "$!"
	done
}

# every_other LIST: kept, the first, third, fifth ... word of LIST: a
# bounded series halved (the timeline's, the soak's). Builtins only.
every_other() {
	kept="" i=0
	for p in $1; do
		[ $((i % 2)) -eq 1 ] || kept="$kept $p"
		i=$((i + 1))
	done
}

timeline_halve() {
	every_other "$points"
	points=$kept n=$(((n + 1) / 2)) step=$((step * 2))
}

# timeline_start / timeline_stop: the loop in the background, and its
# points as JSON once it has written them.
timeline_start() {
	[ "$TIMELINE_INTERVAL" -gt 0 ] || return 0
	rm -f "$timeline_file"
	timeline_loop </dev/null >/dev/null 2>&1 &
	timeline_pid=$!
}

timeline_stop() {
	[ -n "$timeline_pid" ] || return 0
	kill -TERM "$timeline_pid" 2>/dev/null
	wait "$timeline_pid" 2>/dev/null
	timeline_pid=""
	{ read -r step && read -r pts; } <"$timeline_file" 2>/dev/null || return 0
	json="" pjson=""
	for p in $pts; do
		u=${p%%:*} rest=${p#*:}
		used=${rest%%:*} rest=${rest#*:}
		json="${json:+$json,}[$u,$used,${rest%%:*}]"
		case $rest in
		*:*:*:*:*)
			rest=${rest#*:}
			ps10=${rest%%:*} rest=${rest#*:}
			pst=${rest%%:*} rest=${rest#*:}
			pjson="${pjson:+$pjson,}[$u,$ps10,$pst,${rest%%:*},${rest#*:}]"
			;;
		esac
	done
	timeline_json="{\"intervalSeconds\":$step,\"points\":[$json]${pjson:+,\"pressure\":[$pjson]}}"
}

# soak: with SOAK seconds set, the long run after the last measured phase:
# used memory (mem_now) and the free pages on the per-CPU lists (pcp_free)
# every SOAK_INTERVAL seconds, "uptime:used:pcp" in one variable, builtins
# only but for the sleep between readings. When it holds SOAK_POINTS points
# it keeps every other one and doubles the interval, as the timeline does,
# so it spans the whole soak in bounded memory. Its time is the sum of its
# sleeps (the last cut to what is left), so it ends on time; the phase
# records the guest's uptime as every phase does.
soak() {
	[ "$SOAK" -gt 0 ] || return 0
	read_uptime
	started=$up
	say "phase=soak status=started uptime=$up seconds=$SOAK"
	soak_step=$SOAK_INTERVAL soak_pts="" soak_n=0 soak_t=0
	[ "$soak_step" -ge 1 ] || soak_step=1
	while :; do
		mem_now
		pcp_free
		read_uptime
		soak_pts="$soak_pts $up:$used${pcp:+:$pcp}"
		soak_n=$((soak_n + 1))
		[ "$soak_n" -lt "$SOAK_POINTS" ] || soak_halve
		[ "$soak_t" -lt "$SOAK" ] || break
		left=$((SOAK - soak_t))
		[ "$left" -le "$soak_step" ] || left=$soak_step
		sleep "$left"
		soak_t=$((soak_t + left))
	done
	json=""
	for p in $soak_pts; do
		to_commas "$p"
		json="${json:+$json,}[$cs]"
	done
	soak_json="{\"durationSeconds\":$SOAK,\"intervalSeconds\":$soak_step,\"points\":[$json]}"
	say "soak points=$soak_n intervalSeconds=$soak_step usedKiB=$used"
	phase soak ok "$started"
}

soak_halve() {
	every_other "$soak_pts"
	soak_pts=$kept soak_n=$(((soak_n + 1) / 2)) soak_step=$((soak_step * 2))
}

# to_commas S: cs, S with its colons as commas. Builtins only.
to_commas() {
	cs="" s=$1
	while :; do
		case $s in
		*:*)
			cs="$cs${s%%:*},"
			s=${s#*:}
			;;
		*)
			cs="$cs$s"
			return 0
			;;
		esac
	done
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

# mount_artifacts: the offline install's read-only disk, found by its label.
mount_artifacts() {
	mkdir -p "$ARTIFACTS"
	mountpoint -q "$ARTIFACTS" && return 0
	i=0
	# udev may not have seen the disk yet this early in boot.
	until mount -r -t iso9660 "LABEL=$ARTIFACTS_LABEL" "$ARTIFACTS" >>"$hook_log" 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 30 ] || return 1
		sleep 1
	done
}

install_system() {
	if [ "$PREINSTALLED" = 1 ]; then
		read_uptime
		phase install preinstalled "$up"
		# Shipped only when a variant chose options: they still need applying.
		! has_hook configure || run_hook configure "$INSTALL_TIMEOUT"
	elif [ -n "$ARTIFACTS_LABEL" ]; then
		echo "install=offline" >>"$FACTS"
		if ! mount_artifacts; then
			read_uptime
			phase install failed "$up"
			fail "no disk labelled $ARTIFACTS_LABEL to install from"
			return 1
		fi
		run_hook install "$INSTALL_TIMEOUT" installOffline
	else
		run_hook install "$INSTALL_TIMEOUT"
	fi
}

measure() {
	install_system || return 1
	if ! wait_hook ready "$READY_TIMEOUT"; then
		fail "the system was not ready within ${READY_TIMEOUT}s"
		return 1
	fi
	if has_hook version; then
		system_version=$(hook_output version 60 | head -n 1)
	fi
	settle settle
	take_samples idle
	breakdown idle

	if ! has_hook workload; then
		soak
		return 0
	fi
	api_series_start
	run_hook workload "$WORKLOAD_TIMEOUT" || return 1
	# A workload that never answers is a finding, not an error: the machine
	# is measured and its API probed all the same.
	wait_hook workloadReady "$WORKLOAD_TIMEOUT"
	settle settle-workload
	api_series_stop
	take_samples workload
	api_series_end
	breakdown workload
	api_probe
	answers_json=$(api_answers)
	soak
}

mkdir -p "$www"
(umask 077 && mkdir -p "$RUN_DIR")
read_os

# A restarted agent (reboot, unit restart) serves what it measured; it does
# not measure a machine that has been running for a different time.
if [ -s "$result" ] && ! grep -q '"status":"running"' "$result"; then
	say "phase=done status=$(sed -n 's/^{[^}]*"status":"\([a-z]*\)".*/\1/p' "$result" | head -n 1) uptime=restart"
	serve
	exit 0
fi

read_uptime
agent_started=$up
agent_cgroup
timeline_start
# Started by runcmd with --no-block and ordered after cloud-final.service, so
# cloud-init is done; the boot-finished file is the belt to those braces.
while [ ! -e "$boot_finished" ]; do
	sleep 1
done
phase boot ok 0
say "phase=agent status=started uptime=$agent_started"

if measure; then
	status=ok
fi
api_series_end
read_agent_rss
timeline_stop
oom_events
write_result
say "phase=done status=$status uptime=$up"
serve
