package guest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/footprint-dev/footprint/profiles"
)

func renderAll(t *testing.T) map[string]Rendered {
	t.Helper()
	out := map[string]Rendered{}
	for i, name := range profiles.Names() {
		p, _ := profiles.Get(name)
		r, err := Render(Node{
			Name: name, InstanceID: "footprint-test-" + name, Profile: p,
			Address: fmt.Sprintf("10.70.0.%d", 10+i), MAC: fmt.Sprintf("52:54:00:00:00:%02x", i),
			Agent:            AgentSettings{SettleSeconds: 60, Samples: 5, IntervalSeconds: 5, WorkloadPassword: "render-test-password"},
			SSHAuthorizedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl footprint",
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = r
	}
	return out
}

func TestEveryProfileRendersValidCloudConfig(t *testing.T) {
	if _, err := exec.LookPath("cloud-init"); err != nil {
		t.Fatal("cloud-init is not installed (its schema check is part of the tests): run `make tools`")
	}
	dir := t.TempDir()
	for name, r := range renderAll(t) {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(r.UserData), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("cloud-init", "schema", "--config-file", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Valid cloud-config") {
			t.Errorf("%s: cloud-init schema: %v\n%s", name, err, out)
		}
	}
}

func TestUserDataShipsTheAgentUnchanged(t *testing.T) {
	for name, r := range renderAll(t) {
		var cc struct {
			WriteFiles []struct {
				Path, Permissions, Content string
			} `yaml:"write_files"`
			Runcmd [][]string `yaml:"runcmd"`
		}
		if err := yaml.Unmarshal([]byte(r.UserData), &cc); err != nil {
			t.Fatalf("%s: user-data is not YAML: %v", name, err)
		}
		files := map[string]string{}
		for _, f := range cc.WriteFiles {
			files[f.Path] = f.Content
		}
		if files["/usr/local/sbin/footprint-agent"] != Shipped(AgentScript()) {
			t.Errorf("%s: the agent in user-data differs from guest/agent.sh", name)
		}
		if !strings.Contains(files["/etc/systemd/system/footprint-agent.service"], "After=cloud-final.service") {
			t.Errorf("%s: the agent unit is not ordered after cloud-final", name)
		}
		if !strings.Contains(files["/etc/footprint/agent.env"], "NODE='"+name+"'") {
			t.Errorf("%s: agent.env lacks the node name", name)
		}
		if !strings.Contains(r.UserData, "ssh_authorized_keys:\n    - ssh-ed25519 ") {
			t.Errorf("%s: the run's key is not authorized", name)
		}
		if strings.Contains(files["/etc/footprint/agent.env"], "render-test-password") ||
			!strings.Contains(files["/etc/footprint/secret.env"], "MYSQL_PASSWORD='render-test-password'") {
			t.Errorf("%s: the password must be in secret.env only", name)
		}
		last := cc.Runcmd[len(cc.Runcmd)-1]
		if strings.Join(last, " ") != "systemctl start --no-block footprint-agent.service" {
			t.Errorf("%s: runcmd must start the agent without waiting for it, got %v", name, last)
		}
		var meta map[string]string
		if err := yaml.Unmarshal([]byte(r.MetaData), &meta); err != nil || meta["instance-id"] != "footprint-test-"+name {
			t.Errorf("%s: meta-data %q (%v)", name, r.MetaData, err)
		}
		var net struct {
			Version   int
			Ethernets map[string]struct {
				Match map[string]string
				Dhcp4 bool
			}
		}
		if err := yaml.Unmarshal([]byte(r.NetworkConfig), &net); err != nil || net.Version != 2 || !net.Ethernets["primary"].Dhcp4 ||
			!strings.HasPrefix(net.Ethernets["primary"].Match["macaddress"], "52:54:00:") {
			t.Errorf("%s: network-config %q (%v)", name, r.NetworkConfig, err)
		}
	}
}

func TestRenderRejectsBadHostname(t *testing.T) {
	p, _ := profiles.Get("bare")
	for _, bad := range []string{"", "Bare", "bare_1", "-bare", strings.Repeat("a", 64)} {
		if _, err := Render(Node{Name: bad, Profile: p}); err == nil {
			t.Errorf("hostname %q accepted", bad)
		}
	}
}

func TestProfilesRegistryMatchesFiles(t *testing.T) {
	files, err := profiles.Files()
	if err != nil {
		t.Fatal(err)
	}
	registered := append([]string(nil), profiles.Names()...)
	sort.Strings(registered)
	if strings.Join(registered, ",") != strings.Join(files, ",") {
		t.Errorf("registry %v and profile files %v differ", registered, files)
	}
}

// Every Kubernetes profile's hook file carries the shared library byte for
// byte, once, with its parameters above it, and its ready, workload,
// workloadReady and api hooks are the library's functions; the other
// profiles carry none of it.
func TestKubernetesProfilesShipTheLibrary(t *testing.T) {
	lib := profiles.KubernetesLibrary()
	if !strings.Contains(lib, "k8s_ready() {") || !strings.Contains(lib, "k8s_api() {") {
		t.Fatal("the library lacks its hooks")
	}
	shared := map[string]string{"ready": "k8s_ready", "workload": "k8s_workload", "workloadReady": "k8s_workload_ready", "api": "k8s_api"}
	kube := 0
	for _, name := range profiles.Names() {
		p, _ := profiles.Get(name)
		script := ProfileScript(p)
		if p.Kubernetes == nil {
			if strings.Contains(script, "k8s_") {
				t.Errorf("%s: not a Kubernetes profile, yet its hook file uses the library", name)
			}
			continue
		}
		kube++
		if n := strings.Count(script, lib); n != 1 {
			t.Errorf("%s: the hook file holds the library %d times, want once byte for byte", name, n)
		}
		params := "K8S_KUBECTL=" + shellQuote(p.Kubernetes.Kubectl) + "\nK8S_KUBECONFIG=" + shellQuote(p.Kubernetes.Kubeconfig) +
			"\nK8S_API=" + shellQuote(p.Kubernetes.APIServer) + "\nK8S_MIN_PODS="
		if i, j := strings.Index(script, params), strings.Index(script, lib); i < 0 || j < 0 || i > j {
			t.Errorf("%s: the library's parameters are not set above it", name)
		}
		for hook, fn := range shared {
			if want := "fp_" + hook + "() {\n" + fn + "\n}\n"; !strings.Contains(script, want) {
				t.Errorf("%s: hook %s is not the library's %s", name, hook, fn)
			}
		}
	}
	if kube < 5 {
		t.Errorf("%d Kubernetes profiles use the library, want k0s, k3s, microk8s, microk8s-noha and kubesolo", kube)
	}
}
