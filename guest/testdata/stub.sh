#!/bin/sh
# Stands in, on the test host, for every command a profile hook runs in a
# guest (k3s, k0s, microk8s, docker, curl, systemctl, snap, apt-get, dmesg,
# and the few that would write to the host's /etc). It logs each call to
# $STUB_LOG and answers as a healthy system would, unless told otherwise:
#   STUB_MYSQL=down   the MySQL ping never succeeds
#   STUB_API=down     the API never answers
#   STUB_DMESG=FILE   the kernel log to print
set -u
me=${0##*/}
printf '%s %s\n' "$me" "$*" >>"${STUB_LOG:?}"

ready_lines() {
	printf 'Node||True|\nPod|Running|True|ReplicaSet\nPod|Succeeded||Job\n'
}

case $me in
curl)
	case "$*" in
	*http_code*) # the API probe (readiness checks ask without -w)
		if [ "${STUB_API:-up}" = down ]; then
			printf '000 %s' "${API_TIMEOUT:-1}"
			exit 28
		fi
		printf '200 0.012'
		;;
	esac
	exit 0 # downloads of install scripts: nothing, as if already cached
	;;
k3s | k0s | microk8s)
	sub=$1
	[ "$sub" = kubectl ] && shift && sub=kubectl-$1
	case $sub in
	--version) echo "k3s version v1.36.4+k3s1 (stub)" ;;
	version) echo "v1.36.4+k0s.1" ;;
	crictl) echo "RuntimeVersion: v2.0.0-k3s1" ;;
	kubectl-get) ready_lines ;;
	kubectl-apply) cat >"${STUB_LOG}.manifest" ;;
	kubectl-exec) [ "${STUB_MYSQL:-up}" = up ] || exit 1 ;;
	esac
	exit 0
	;;
docker)
	case $1 in
	version) echo "29.8.1" ;;
	container) exit 1 ;; # no footprint-mysql container yet
	exec) [ "${STUB_MYSQL:-up}" = up ] || exit 1 ;;
	esac
	exit 0
	;;
dmesg)
	[ -n "${STUB_DMESG:-}" ] && cat "$STUB_DMESG"
	exit 0
	;;
dpkg)
	[ "$1" = --print-architecture ] && echo amd64
	exit 0
	;;
tee) cat >/dev/null ;;
free)
	echo '               total        used        free      shared  buff/cache   available'
	echo 'Mem:          996452      150000      601234        1100      242100      832612'
	;;
esac
exit 0
