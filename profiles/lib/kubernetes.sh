# footprint's Kubernetes hook library: the ready check, the MySQL Deployment,
# its readiness and the API probe, shared byte for byte by every Kubernetes
# profile. A profile parameterises it with four variables, set above this
# text in the profile's hook file:
#   K8S_KUBECTL     the kubectl command prefix (e.g. "k3s kubectl"), split on blanks
#   K8S_KUBECONFIG  the admin kubeconfig the API probe takes its credentials from
#   K8S_API         the API server's base URL (e.g. https://127.0.0.1:6443)
#   K8S_MIN_PODS    how many kube-system pods the ready check wants at least
# Each function is one hook, run by the agent in its own shell.

# k8s_kubectl ARGS...: the profile's kubectl.
k8s_kubectl() {
	# shellcheck disable=SC2086 # a command prefix: word splitting intended
	$K8S_KUBECTL "$@"
}

# k8s_ready: one kubectl call: every node Ready, every kube-system pod not
# owned by a Job Running and Ready (Job pods end as Completed, possibly after
# Failed retries), at least K8S_MIN_PODS pods.
k8s_ready() {
	k8s_kubectl get nodes,pods -n kube-system -o jsonpath='{range .items[*]}{.kind}|{.status.phase}|{range .status.conditions[?(@.type=="Ready")]}{.status}{end}|{.metadata.ownerReferences[*].kind}{"\n"}{end}' 2>/dev/null |
		awk -F'|' -v min="$K8S_MIN_PODS" '
			$1 == "Node" { n++; if ($3 != "True") bad = 1; next }
			$1 == "Pod"  { if ($4 == "Job") next; p++; if ($2 != "Running" || $3 != "True") bad = 1 }
			END { exit (bad || n < 1 || p < min) ? 1 : 0 }'
}

# k8s_workload: MySQL as a Deployment, its root password in a Secret (the
# password never appears on a command line).
k8s_workload() {
	set -e
	pw=$(printf '%s' "$MYSQL_PASSWORD" | base64 | tr -d '\n')
	k8s_kubectl apply -f - <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: footprint-mysql
type: Opaque
data:
  MYSQL_ROOT_PASSWORD: "$pw"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: footprint-mysql
  labels:
    app: footprint-mysql
spec:
  replicas: 1
  selector:
    matchLabels:
      app: footprint-mysql
  template:
    metadata:
      labels:
        app: footprint-mysql
    spec:
      containers:
        - name: mysql
          image: "$MYSQL_IMAGE"
          env:
            - name: MYSQL_ROOT_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: footprint-mysql
                  key: MYSQL_ROOT_PASSWORD
          ports:
            - containerPort: 3306
          # Ready when the server accepts connections: the kubelet dials the
          # pod's port itself (no process started in the container), and the
          # entrypoint's temporary init server, started with
          # --skip-networking, never counts.
          readinessProbe:
            tcpSocket:
              port: 3306
            periodSeconds: 10
            timeoutSeconds: 5
EOF
}

# k8s_workload_ready: the Deployment has a ready replica, by the readiness
# probe above. One curl to the API, as k8s_api: a kubectl exec per try
# (kubectl, the API server, the kubelet and runc, every few seconds) costs
# the CPU a MySQL pod, BestEffort at the lowest weight, needs for its first
# start on one slow vCPU.
#
# The API server pretty-prints JSON for curl's user agent ("readyReplicas": 1,
# its isPrettyPrint) and writes it compact for others: the match allows any
# blanks around the colon, so the check holds for either.
k8s_workload_ready() {
	k8s_request /apis/apps/v1/namespaces/default/deployments/footprint-mysql "$RUN_DIR/k8s-api/mysql.json" >/dev/null &&
		grep -Eq '"readyReplicas"[[:space:]]*:[[:space:]]*[1-9]' "$RUN_DIR/k8s-api/mysql.json"
}

# k8s_kubeconfig_field NAME: the first value of a kubeconfig field.
k8s_kubeconfig_field() {
	sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" "$K8S_KUBECONFIG" | head -n 1 | sed -e 's/^"//' -e 's/"$//'
}

# k8s_credential DATA_FIELD FILE_FIELD OUT: writes a credential to OUT from
# the kubeconfig's embedded *-data field, else copies the file it names.
k8s_credential() {
	data=$(k8s_kubeconfig_field "$1")
	if [ -n "$data" ]; then
		printf '%s' "$data" | base64 -d >"$3" 2>/dev/null
		return
	fi
	file=$(k8s_kubeconfig_field "$2")
	[ -z "$file" ] || cat "$file" >"$3" 2>/dev/null
}

# k8s_request PATH OUT: one plain curl request for PATH with the admin
# credentials of K8S_KUBECONFIG (kubectl would cost ~50 MiB per call on a
# 1 GiB guest), the body written to OUT. Credentials are re-extracted on
# every call with sed and base64 only, outside the timed request: an x509
# client certificate, or a static token (old MicroK8s releases). Prints
# "<http code> <seconds>"; succeeds on 200 only. The first and the last
# answer to each path are kept as the API server wrote them (headers and
# body), for the result: they are the fixtures the test stub answers with.
k8s_request() {
	path=$1 url="$K8S_API$1" out=$2
	# A folder of this call's own: the agent probes the API through the
	# workload while a readiness check asks too, each hook in its own shell,
	# and shared files mixed one's answer into the other's (2026-12-07).
	d="$RUN_DIR/k8s-api/call.$$"
	umask 077
	mkdir -p "$d"
	k8s_credential certificate-authority-data certificate-authority "$d/ca.crt"
	if [ -n "$(k8s_kubeconfig_field client-certificate-data)$(k8s_kubeconfig_field client-certificate)" ]; then
		k8s_credential client-certificate-data client-certificate "$d/client.crt"
		k8s_credential client-key-data client-key "$d/client.key"
		set -- --cert "$d/client.crt" --key "$d/client.key"
	else
		# The token goes into a header file, never onto a command line.
		printf 'Authorization: Bearer %s\n' "$(k8s_kubeconfig_field token)" >"$d/auth.header"
		set -- -H "@$d/auth.header"
	fi
	rm -f "$d/body" "$d/headers"
	code=$(curl -s -o "$d/body" -D "$d/headers" -w '%{http_code} %{time_total}' --max-time "$API_TIMEOUT" \
		--cacert "$d/ca.crt" "$@" "$url")
	[ -n "$code" ] || code="000 0"
	[ "$out" = /dev/null ] || cp "$d/body" "$out" 2>/dev/null || :
	k8s_keep_answer "$path" "$d"
	rm -rf "$d"
	echo "$code"
	[ "${code%% *}" = 200 ]
}

# k8s_keep_answer PATH DIR: the answer just read into DIR, headers then
# body, as answers/NAME.first.http (once) and NAME.last.http, NAME the path
# with its slashes as dashes; PATH itself goes beside it. Each file is
# written whole, then renamed, so a reader never sees half of one. Nothing
# when no answer came.
k8s_keep_answer() {
	[ -s "$2/headers" ] || return 0
	a="$RUN_DIR/k8s-api/answers"
	name=$(printf '%s' "${1#/}" | tr -c 'A-Za-z0-9._\n' '-')
	mkdir -p "$a"
	cat "$2/headers" "$2/body" >"$2/answer" 2>/dev/null || return 0
	[ -e "$a/$name.first.http" ] || cp "$2/answer" "$a/$name.first.http"
	mv -f "$2/answer" "$a/$name.last.http"
	printf '%s\n' "$1" >"$a/$name.path"
}

# k8s_api: /readyz, as the API probe asks it. Prints "<http code> <seconds>".
k8s_api() {
	k8s_request /readyz /dev/null
}
