package profiles

import (
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// builtinFiles parses every embedded profile file, registered or not; a
// built-in variant's file is not a profile's.
func builtinFiles(t *testing.T) map[string]Profile {
	t.Helper()
	names, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Profile{}
	for _, name := range names {
		data, err := defs.ReadFile("defs/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		if isVariantFile(data) {
			continue
		}
		p, err := parse(name, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out[name] = p
	}
	return out
}

// rawHooks are the hooks a profile file writes itself, before the shared
// Kubernetes hooks fill in the rest.
func rawHooks(t *testing.T, name string) map[string]string {
	t.Helper()
	data, err := defs.ReadFile("defs/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Hooks map[string]string `yaml:"hooks"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	return raw.Hooks
}

func TestParseRejects(t *testing.T) {
	const head = "name: x\ndescription: d\n"
	const offline = "hooks:\n  installOffline: echo\n"
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"unknown field", head + "hookz: {}\n", "field hookz not found"},
		{"unknown hook", head + "hooks:\n  instal: echo\n", `unknown hook "instal"`},
		{"artifacts without installOffline", head + "hooks:\n  install: echo\nartifacts:\n  - {path: a, url: https://e/a, checksum: https://e/a.sha256}\n",
			"lists artifacts but has no installOffline hook"},
		{"empty path", head + offline + "artifacts:\n  - {path: '', url: https://e/a, checksum: https://e/s}\n", "must be a clean relative path"},
		{"absolute path", head + offline + "artifacts:\n  - {path: /etc/a, url: https://e/a, checksum: https://e/s}\n", "must be a clean relative path"},
		{"path leaving the folder", head + offline + "artifacts:\n  - {path: ../a, url: https://e/a, checksum: https://e/s}\n", "must be a clean relative path"},
		{"parent path", head + offline + "artifacts:\n  - {path: '..', url: https://e/a, checksum: https://e/s}\n", "must be a clean relative path"},
		{"dot path", head + offline + "artifacts:\n  - {path: ./a, url: https://e/a, checksum: https://e/s}\n", "must be a clean relative path"},
		{"unclean path", head + offline + "artifacts:\n  - {path: a//b, url: https://e/a, checksum: https://e/s}\n", "must be a clean relative path"},
		{"trailing slash", head + offline + "artifacts:\n  - {path: a/, url: https://e/a, checksum: https://e/s}\n", "must be a clean relative path"},
		{"url without checksum", head + offline + "artifacts:\n  - {path: a, url: https://e/a}\n", "has a url but no published checksum"},
		{"snap url with a checksum", head + offline + "artifacts:\n  - {path: a.snap, url: 'snap:a?channel=latest/stable', checksum: https://e/s}\n",
			"a snap: url takes no checksum"},
		{"snap-like url without checksum", head + offline + "artifacts:\n  - {path: a.snap, url: 'https://e/snap:a'}\n", "has a url but no published checksum"},
		{"url and image", head + offline + "artifacts:\n  - {path: a, url: https://e/a, checksum: https://e/s, image: 'busybox:1'}\n", "needs exactly one of url and image"},
		{"neither url nor image", head + offline + "artifacts:\n  - {path: a, checksum: https://e/s}\n", "needs exactly one of url and image"},
		{"duplicate path", head + offline + "artifacts:\n  - {path: a, url: https://e/a, checksum: https://e/s}\n  - {path: a, image: 'busybox:1'}\n",
			"artifact a is listed twice"},
		{"kubernetes without kubectl", head + "kubernetes: {kubeconfig: /k, apiServer: https://127.0.0.1:6443}\n", "kubernetes needs kubectl, kubeconfig and apiServer"},
		{"kubernetes without kubeconfig", head + "kubernetes: {kubectl: k, apiServer: https://127.0.0.1:6443}\n", "kubernetes needs kubectl, kubeconfig and apiServer"},
		{"kubernetes without apiServer", head + "kubernetes: {kubectl: k, kubeconfig: /k}\n", "kubernetes needs kubectl, kubeconfig and apiServer"},
		{"negative minSystemPods", head + "kubernetes: {kubectl: k, kubeconfig: /k, apiServer: https://h, minSystemPods: -1}\n", "minSystemPods is negative"},
		{"unknown kubernetes field", head + "kubernetes: {kubectl: k, kubeconfig: /k, apiServer: https://h, minPods: 1}\n", "field minPods not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse("x", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := parse("y", []byte(head)); err == nil || !strings.Contains(err.Error(), `names itself "x"`) {
		t.Errorf("a file naming another profile: %v", err)
	}
}

func TestParseAccepts(t *testing.T) {
	y := "name: x\nhooks:\n  installOffline: echo\nartifacts:\n" +
		"  - {path: bin/a, url: 'https://e/{version}/a', checksum: 'https://e/{version}/SUMS'}\n" +
		"  - {path: images/b.tar, image: 'registry.example/b:{versionNoV}'}\n" +
		// A snap needs no checksum URL: its assertion is its checksum.
		"  - {path: c.snap, url: 'snap:c?channel={version}'}\n" +
		"  - {path: c.assert, url: 'snap:c?channel={version}#assert'}\n"
	p, err := parse("x", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Artifacts) != 4 || p.Artifacts[1].Image == "" || p.Artifacts[3].Checksum != "" || p.Hooks["ready"] != "" || p.Library() != "" {
		t.Errorf("parsed %+v", p)
	}
}

func TestMinSystemPods(t *testing.T) {
	const k = "name: x\nkubernetes:\n  kubectl: kubectl --kubeconfig=/k\n  kubeconfig: /k\n  apiServer: https://127.0.0.1:6443\n"
	for _, c := range []struct{ extra, want string }{
		{"", "K8S_MIN_PODS=1\n"},
		{"  minSystemPods: 0\n", "K8S_MIN_PODS=0\n"},
		{"  minSystemPods: 3\n", "K8S_MIN_PODS=3\n"},
	} {
		p, err := parse("x", []byte(k+c.extra))
		if err != nil {
			t.Fatal(err)
		}
		lib := p.Library()
		if !strings.HasPrefix(lib, "K8S_KUBECTL='kubectl --kubeconfig=/k'\nK8S_KUBECONFIG='/k'\nK8S_API='https://127.0.0.1:6443'\n"+c.want) {
			t.Errorf("%q: library starts %q", c.extra, lib[:min(len(lib), 160)])
		}
		if !strings.Contains(lib, KubernetesLibrary()) {
			t.Errorf("%q: the library is not shipped whole", c.extra)
		}
		for hook, fn := range kubernetesHooks {
			if p.Hooks[hook] != fn {
				t.Errorf("%q: hook %s = %q, want %q", c.extra, hook, p.Hooks[hook], fn)
			}
		}
	}
	// A hook the profile writes itself is kept.
	p, err := parse("x", []byte(k+"hooks:\n  ready: \"true\"\n"))
	if err != nil || p.Hooks["ready"] != "true" || p.Hooks["api"] != "k8s_api" {
		t.Errorf("own ready hook: %v %+v", err, p.Hooks)
	}
}

func TestBuiltinProfilesParse(t *testing.T) {
	files := builtinFiles(t)
	for _, name := range Names() {
		if _, variant := VariantOf(name); !variant {
			if _, ok := files[name]; !ok {
				t.Errorf("registered profile %s has no file", name)
			}
		}
	}
	for _, name := range []string{"k0s", "k3s", "microk8s", "kubesolo", "kubeadm"} {
		p, ok := files[name]
		if !ok || p.Kubernetes == nil {
			t.Errorf("%s does not use the shared Kubernetes hooks", name)
		}
	}
	// The default experiment runs KubeSolo and the vanilla reference.
	for _, name := range []string{"kubesolo", "kubeadm"} {
		if !slices.Contains(Names(), name) {
			t.Errorf("%s is not in the default experiment: %v", name, Names())
		}
	}
}

// No profile file carries its own copy of a shared Kubernetes hook.
func TestNoProfileReimplementsALibraryHook(t *testing.T) {
	for name, p := range builtinFiles(t) {
		data, _ := defs.ReadFile("defs/" + name + ".yaml")
		if strings.Contains(string(data), "kind: Deployment") {
			t.Errorf("%s.yaml writes a Deployment itself: use the kubernetes block", name)
		}
		if p.Kubernetes == nil {
			continue
		}
		for hook, body := range rawHooks(t, name) {
			if _, shared := kubernetesHooks[hook]; shared {
				t.Errorf("%s.yaml writes its own %s hook: the library's %s does it", name, hook, kubernetesHooks[hook])
			}
			for _, marker := range []string{"mysqladmin", "/readyz", "MYSQL_ROOT_PASSWORD", "client-certificate-data"} {
				if strings.Contains(body, marker) {
					t.Errorf("%s.yaml hook %s re-implements the library (%q)", name, hook, marker)
				}
			}
		}
	}
}

// artifactRef finds what a hook does with $ARTIFACTS: a path in it ("/..."
// right after the variable, quoted or not) or the whole folder.
var artifactRef = regexp.MustCompile(`\$(?:ARTIFACTS\b|\{ARTIFACTS\})"?(/[^\s"';|&)]*)?`)

// Every profile with artifacts has an installOffline that reads only files
// it lists, downloads nothing, and (unless it hands the whole folder on)
// reads every file it lists.
func TestOfflineInstallsUseTheirArtifacts(t *testing.T) {
	withArtifacts := 0
	for name, p := range builtinFiles(t) {
		if len(p.Artifacts) == 0 {
			if p.Hooks[HookInstallOffline] != "" {
				t.Errorf("%s has an installOffline hook but lists no artifacts", name)
			}
			continue
		}
		withArtifacts++
		hook := p.Hooks[HookInstallOffline]
		var listed []string
		for _, a := range p.Artifacts {
			listed = append(listed, a.Path)
			for _, u := range []string{a.URL, a.Checksum} {
				if u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "snap:") {
					t.Errorf("%s: artifact %s: %q is neither https nor snap:", name, a.Path, u)
				}
			}
		}
		used := map[string]bool{}
		whole := false
		for _, m := range artifactRef.FindAllStringSubmatch(hook, -1) {
			ref := strings.TrimPrefix(m[1], "/")
			if ref == "" {
				whole = true
				continue
			}
			matched := false
			for _, l := range listed {
				if ok, _ := path.Match(ref, l); ok || ref == l {
					used[l], matched = true, true
				}
			}
			// A glob over images/ also loads the image archives the folder
			// has beyond the list: the workload image artifacts fetch
			// saves (images/workload.tar), or one added by hand.
			if !matched && !imagesGlob(ref) {
				t.Errorf("%s: installOffline reads $ARTIFACTS/%s, which the profile does not list (%v)", name, ref, listed)
			}
		}
		if len(used) == 0 && !whole {
			t.Errorf("%s: installOffline never reads $ARTIFACTS", name)
		}
		if !whole {
			for _, l := range listed {
				if !used[l] {
					t.Errorf("%s: artifact %s is listed but installOffline never reads it", name, l)
				}
			}
		}
		for _, fetch := range []string{"curl ", "wget ", "apt-get ", "snap download"} {
			if strings.Contains(hook, fetch) {
				t.Errorf("%s: installOffline downloads (%q): everything comes from $ARTIFACTS", name, fetch)
			}
		}
	}
	if withArtifacts < 5 {
		t.Errorf("only %d profiles have an offline install", withArtifacts)
	}
}

// imagesGlob tells whether an $ARTIFACTS path is a glob of the archives
// directly under images/ ("images/*.tar").
func imagesGlob(ref string) bool {
	return path.Dir(ref) == "images" && strings.ContainsAny(path.Base(ref), "*?[")
}

// Every Kubernetes profile's offline install loads each image archive of
// the folder under images/ (the workload image among them) the way its own
// air-gap documentation loads images, skipping the glob when nothing
// matches; KubeSolo documents no way to preload an image (SOURCES.md).
func TestOfflineInstallsLoadEveryImageArchive(t *testing.T) {
	loads := map[string]string{
		"k3s":      `cp "$i" "/var/lib/rancher/k3s/agent/images/${i##*/}"`,
		"k0s":      `cp "$i" "/var/lib/k0s/images/${i##*/}"`,
		"microk8s": `cp "$i" "/var/snap/microk8s/common/sideload/${i##*/}"`,
		"kubeadm":  `ctr -n k8s.io images import "$i"`,
		"kubesolo": "", // the gap profiles/SOURCES.md describes
	}
	for name, p := range builtinFiles(t) {
		hook := p.Hooks[HookInstallOffline]
		if p.Kubernetes == nil || hook == "" {
			continue
		}
		want, ok := loads[name]
		if !ok {
			t.Errorf("%s: say how its installOffline loads the image archives under images/", name)
			continue
		}
		glob := `for i in "$ARTIFACTS"/images/*.tar; do`
		if want == "" {
			if strings.Contains(hook, glob) {
				t.Errorf("%s: installOffline now loads images/*.tar: update this test and profiles/SOURCES.md", name)
			}
			continue
		}
		if !strings.Contains(hook, glob) || !strings.Contains(hook, want) {
			t.Errorf("%s: installOffline does not load every images/*.tar with %q", name, want)
		}
		if name != "kubeadm" && !strings.Contains(hook, `[ -f "$i" ] || continue`) {
			t.Errorf("%s: installOffline does not skip the glob when images/ has no archive", name)
		}
	}
}

// The online installs stay what the documentation says (issue 9: offline is
// an addition).
func TestOnlineInstallsAreTheDocumentedOnes(t *testing.T) {
	files := builtinFiles(t)
	for name, want := range map[string][]string{
		"k3s":      {`curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION="$VERSION" sh -`},
		"k0s":      {`curl -sSLf https://get.k0s.sh | K0S_VERSION="$VERSION" sh`, `k0s install controller --single ${disabled:+"--disable-components=$disabled"}` + "\n", "k0s start"},
		"microk8s": {`snap install microk8s --classic --channel="$VERSION"`, "microk8s status --wait-ready"},
		"kubesolo": {`curl -sfL https://get.kubesolo.io | KUBESOLO_VERSION="$VERSION" sh -`},
	} {
		for _, w := range want {
			if !strings.Contains(files[name].Hooks[HookInstall], w) {
				t.Errorf("%s: install lacks %q", name, w)
			}
		}
	}
	// MicroK8s without HA: the documented switch, run by both installs.
	m := files["microk8s"]
	if !strings.Contains(m.Functions, "microk8s disable ha-cluster --force") ||
		!strings.Contains(m.Hooks[HookInstall], "microk8s_no_ha") || !strings.Contains(m.Hooks[HookInstallOffline], "microk8s_no_ha") {
		t.Error("microk8s: the installs do not end with the noHA switch")
	}
}

func TestLibraryPassesShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck is not installed: run `make tools`")
	}
	out, err := exec.Command("shellcheck", "-s", "sh", "lib/kubernetes.sh").CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck lib/kubernetes.sh: %v\n%s", err, out)
	}
	if !slices.Contains(HookNames, HookInstallOffline) {
		t.Error("installOffline is not a known hook")
	}
}
