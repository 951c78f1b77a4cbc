#!/bin/sh
# Stands in, on the test host, for every command a profile hook runs in a
# guest (k3s, k0s, microk8s, kubesolo, kubectl, containerd, docker, curl, systemctl, snap,
# apt-get, dmesg, and the few that would write to the host's /etc). It logs
# each call to $STUB_LOG and answers as a healthy system would, unless told
# otherwise. Kubernetes API requests get the answers a real API server gave
# (STUB_FIXTURES, testdata/k8s-api), byte for byte:
#   STUB_MYSQL=down   MySQL never becomes ready (ping; the Deployment's first
#                     recorded status, not ready, instead of its last)
#   STUB_API=down     the API never answers
#   STUB_DMESG=FILE   the kernel log to print
#   STUB_PODS=none    kube-system has no pods (as after MicroK8s' HA reset)
# What a hook writes with tee (configuration files, systemd drop-ins) lands in
# $STUB_LOG.files, each file headed "== PATH".
set -u
me=${0##*/}
printf '%s %s\n' "$me" "$*" >>"${STUB_LOG:?}"

ready_lines() {
	printf 'Node||True|\n'
	[ "${STUB_PODS:-some}" = none ] || printf 'Pod|Running|True|ReplicaSet\nPod|Succeeded||Job\n'
}

# answer PATH WHICH OUT HEADERS: the API server's recorded answer to PATH
# (testdata/k8s-api/NAME.WHICH.http, recorded by the real-cluster test),
# its body to OUT and headers to HEADERS; prints the status code. A request
# with no recorded answer fails loudly: the stub never answers what the
# real server was not seen to answer.
answer() {
	name=$(printf '%s' "${1#/}" | tr -c 'A-Za-z0-9._\n' '-')
	f=${STUB_FIXTURES:?}/$name.$2.http
	if [ ! -r "$f" ]; then
		echo "stub: no recorded answer for $1 ($f)" >&2
		exit 2
	fi
	sed '1,/^\r\{0,1\}$/d' "$f" >"$3"
	[ -z "$4" ] || sed '/^\r\{0,1\}$/q' "$f" >"$4"
	awk 'NR == 1 { print $2; exit }' "$f"
}

case $me in
curl)
	case "$*" in
	*--unix-socket*) # Docker's engine API: its probe asks for the code
		case "$*" in *http_code*) ;; *) exit 0 ;; esac
		if [ "${STUB_API:-up}" = down ]; then
			printf '000 %s' "${API_TIMEOUT:-1}"
			exit 28
		fi
		printf '200 0.012'
		;;
	*http_code*) # a request to the Kubernetes API (k8s_request)
		out=/dev/null hdr='' url='' prev=''
		for a in "$@"; do
			case $prev in
			-o) out=$a ;;
			-D) hdr=$a ;;
			-A | --user-agent | -H)
				# The server pretty-prints for curl's own user agent only.
				case $prev$a in -H*[Uu]ser-[Aa]gent* | -A* | --user-agent*)
					echo "stub: no recorded answer for a user agent of $a" >&2
					exit 2
					;;
				esac
				;;
			esac
			case $a in https://* | http://*) url=$a ;; esac
			prev=$a
		done
		if [ "${STUB_API:-up}" = down ]; then
			printf '000 %s' "${API_TIMEOUT:-1}"
			exit 28
		fi
		path=/${url#*://*/}
		case $path in
		*\?*)
			echo "stub: no recorded answer for a query ($path)" >&2
			exit 2
			;;
		*/deployments/footprint-mysql) which=last && [ "${STUB_MYSQL:-up}" = up ] || which=first ;;
		*) which=last ;;
		esac
		code=$(answer "$path" "$which" "$out" "$hdr") || exit 2
		printf '%s 0.020' "$code"
		;;
	esac
	exit 0 # downloads of install scripts: nothing, as if already cached
	;;
k3s | k0s | microk8s | kubesolo | kubectl)
	# A plain kubectl is its own "kubectl" subcommand; its global flags
	# (--kubeconfig=FILE) come before the verb.
	[ "$me" = kubectl ] && set -- kubectl "$@"
	sub=${1:-}
	if [ "$sub" = kubectl ]; then
		shift
		while [ $# -gt 0 ]; do
			case $1 in
			--kubeconfig=*) shift ;;
			--kubeconfig) shift 2 ;;
			*) break ;;
			esac
		done
		sub=kubectl-${1:-}
	fi
	case $me:$sub in
	kubesolo:--version) echo '{"level":"info","version":"v1.2.2","time":"2026-11-30T00:00:00Z","message":"kubesolo version"}' ;;
	*:--version) echo "k3s version v1.36.4+k3s1 (stub)" ;;
	*:version) echo "v1.36.4+k0s.1" ;;
	*:crictl) echo "RuntimeVersion: v2.0.0-k3s1" ;;
	*:kubectl-get)
		case "$*" in
		*nodeInfo*) printf 'v1.35.7 containerd://2.1.4' ;;
		*--raw\ /version*) printf '{\n  "major": "1",\n  "gitVersion": "v1.36.3",\n  "platform": "linux/amd64"\n}\n' ;;
		*component=etcd*) printf 'registry.k8s.io/etcd:3.6.8-0' ;;
		*) ready_lines ;;
		esac
		;;
	*:kubectl-apply) cat >"${STUB_LOG}.manifest" ;;
	*:kubectl-exec) [ "${STUB_MYSQL:-up}" = up ] || exit 1 ;;
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
containerd)
	[ "${1:-}" = --version ] && echo "containerd github.com/containerd/containerd/v2 v2.3.7 0123abcd"
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
tee) # a file the host must not get: its path and content go to $STUB_LOG.files instead
	{
		printf '== %s\n' "$*"
		cat
	} >>"${STUB_LOG}.files"
	;;
free)
	echo '               total        used        free      shared  buff/cache   available'
	echo 'Mem:          996452      150000      601234        1100      242100      832612'
	;;
esac
exit 0
