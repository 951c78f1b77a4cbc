// Package profiles holds the systems footprint measures. A profile is data:
// one YAML file under defs/ with the shell hooks the in-guest agent runs, and
// one entry in the registry below. Nothing else changes to add a system.
package profiles

import (
	"embed"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed defs/*.yaml
var defs embed.FS

//go:embed lib/kubernetes.sh
var kubernetesLib string

// registry is the order profiles are listed and run in by default.
var registry = []string{
	"bare",
	"docker",
	"k0s",
	"k3s",
	"microk8s",
	"microk8s-noha",
	"kubesolo",
	"kubeadm",
}

// HookNames are the hooks the agent knows, in the order it runs them. Each
// is a POSIX shell snippet run as root in its own shell; a missing hook is a
// phase the profile skips. installOffline runs instead of install when the
// stack gives the profile its artifacts (read-only, in ARTIFACTS). configure
// applies a variant's options to a system the image already has
// (footprint:preinstalled): it is shipped only with options chosen, and run
// only for a preinstalled system, since install applies them itself. ready and
// workloadReady are checks the agent retries until they pass; api prints
// "<http code> <seconds>" for one bounded request. Hooks may read VERSION,
// MYSQL_PASSWORD, MYSQL_IMAGE, API_TIMEOUT, RUN_DIR (a root-only scratch
// folder), ARTIFACTS, and append "key=value" lines to FACTS, which the
// result records (for example the preflight checks an install ignored).
var HookNames = []string{HookInstall, HookInstallOffline, HookConfigure, HookReady, HookVersion, HookWorkload, HookWorkloadReady, HookAPI}

// Hook names as the profiles and the agent spell them.
const (
	HookInstall        = "install"
	HookInstallOffline = "installOffline"
	HookConfigure      = "configure"
	HookReady          = "ready"
	HookVersion        = "version"
	HookWorkload       = "workload"
	HookWorkloadReady  = "workloadReady"
	HookAPI            = "api"
)

// Profile is one system to measure.
type Profile struct {
	Name           string            `yaml:"name"`
	Description    string            `yaml:"description"`
	DefaultVersion string            `yaml:"defaultVersion"`
	Hooks          map[string]string `yaml:"hooks"`
	// Functions is shell (settings and functions) that the profile's own
	// hooks share, written once above them.
	Functions string `yaml:"functions"`
	// APIClient says what the api hook uses, for the result.
	APIClient string `yaml:"apiClient"`
	// Units are the systemd units whose memory the agent accounts.
	Units []string `yaml:"units"`
	// Kubernetes, when set, gives the profile the shared Kubernetes hooks
	// (lib/kubernetes.sh) for every one of ready, workload, workloadReady
	// and api that it does not write itself.
	Kubernetes *Kubernetes `yaml:"kubernetes"`
	// Artifacts are the files installOffline reads, as the project's air-gap
	// documentation lists them, and where `footprint artifacts fetch` gets
	// them on a connected machine.
	Artifacts []Artifact `yaml:"artifacts"`
	// TypicalSeconds is how long a node of the profile takes from creation
	// to its result, as measured (where it says), for `footprint plan`'s
	// estimate; 0 where nobody measured it.
	TypicalSeconds int `yaml:"typicalSeconds"`
	// Options are the settings a variant may choose, by name.
	Options map[string]Option `yaml:"options"`
	// Chosen are the options a variant chose (With); none for the profile
	// as its project ships it.
	Chosen []string `yaml:"-"`
}

// Kubernetes parameterises the shared Kubernetes hooks for one distribution.
type Kubernetes struct {
	// Kubectl is the command prefix, e.g. "k3s kubectl".
	Kubectl string `yaml:"kubectl"`
	// Kubeconfig is the admin kubeconfig the API probe takes its
	// credentials from (embedded or file certificates, or a token).
	Kubeconfig string `yaml:"kubeconfig"`
	// APIServer is the base URL the API probe asks for /readyz.
	APIServer string `yaml:"apiServer"`
	// MinSystemPods is how many kube-system pods (not owned by a Job) the
	// ready check wants at least; 1 unless set.
	MinSystemPods *int `yaml:"minSystemPods"`
}

// Artifact is one file of a profile's offline install. In URL, Checksum and
// Image, {version} stands for the profile's version, escaped for a URL path,
// and {versionNoV} for the same without a leading "v". A URL of the form
// snap:NAME?channel=C is a snap from the store, with its assertion.
type Artifact struct {
	// Path is where the file sits in the profile's artifacts folder.
	Path string `yaml:"path"`
	// URL is where a connected machine downloads it.
	URL string `yaml:"url,omitempty"`
	// Checksum is the URL of its published SHA-256: a file holding the
	// digest alone, or a sums file with a line naming the URL's file.
	Checksum string `yaml:"checksum,omitempty"`
	// Image, instead of a URL, is a container image reference saved as an
	// image archive at Path (registries check its digest).
	Image string `yaml:"image,omitempty"`
	// Optional artifacts are fetched, and used by installOffline when the
	// folder has them, but a folder without them is complete.
	Optional bool `yaml:"optional,omitempty"`
}

// ExtraDirEnv names a folder of further profile files (same format), loaded
// after the built-in ones: a system can be tried, or a test can bring its
// own, without rebuilding footprint.
const ExtraDirEnv = "FOOTPRINT_PROFILES_DIR"

var (
	loadOnce sync.Once
	loaded   map[string]Profile
	order    []string
	loadErr  error
)

func ensureLoaded() {
	loadOnce.Do(func() {
		loaded = map[string]Profile{}
		for _, name := range registry {
			data, err := defs.ReadFile("defs/" + name + ".yaml")
			if err == nil {
				err = load(name, data)
			}
			if err != nil {
				panic(err) // a broken built-in profile is a build defect, caught by the tests
			}
		}
		if err := checkVariants(variants, loaded); err != nil {
			panic(err)
		}
		if dir := os.Getenv(ExtraDirEnv); dir != "" {
			if loadErr = loadExtra(dir); loadErr == nil {
				loadErr = checkVariants(variants, loaded)
			}
		}
	})
}

// load parses one file, a profile's or a variant's.
func load(name string, data []byte) error {
	if isVariantFile(data) {
		v, err := parseVariant(name, data)
		if err == nil {
			variants[name] = v
		}
		return err
	}
	p, err := parse(name, data)
	if err == nil {
		loaded[name], order = p, append(order, name)
	}
	return err
}

func loadExtra(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%s=%s holds no *.yaml profile", ExtraDirEnv, dir)
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		_, profile := loaded[name]
		if _, variant := variants[name]; profile || variant {
			return fmt.Errorf("%s: profile %s is built in already", f, name)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := load(name, data); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// LoadError reports a broken profile in the extra folder.
func LoadError() error {
	ensureLoaded()
	return loadErr
}

func parse(name string, data []byte) (Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", name, err)
	}
	if p.Name != name {
		return Profile{}, fmt.Errorf("profile file %s.yaml names itself %q", name, p.Name)
	}
	for h := range p.Hooks {
		if !slices.Contains(HookNames, h) {
			return Profile{}, fmt.Errorf("profile %s: unknown hook %q (known: %s)", name, h, strings.Join(HookNames, ", "))
		}
	}
	if err := p.checkOptions(); err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", name, err)
	}
	if err := p.checkArtifacts(); err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", name, err)
	}
	if p.Kubernetes != nil {
		if err := p.useKubernetesHooks(); err != nil {
			return Profile{}, fmt.Errorf("profile %s: %w", name, err)
		}
	}
	return p, nil
}

func (p *Profile) checkArtifacts() error {
	if len(p.Artifacts) > 0 && p.Hooks[HookInstallOffline] == "" {
		return fmt.Errorf("lists artifacts but has no %s hook", HookInstallOffline)
	}
	seen := map[string]bool{}
	for _, a := range p.Artifacts {
		clean := path.Clean(a.Path)
		if a.Path == "" || clean != a.Path || path.IsAbs(clean) || strings.HasPrefix(clean, "../") || clean == ".." {
			return fmt.Errorf("artifact path %q must be a clean relative path", a.Path)
		}
		if seen[clean] {
			return fmt.Errorf("artifact %s is listed twice", clean)
		}
		seen[clean] = true
		if (a.URL == "") == (a.Image == "") {
			return fmt.Errorf("artifact %s needs exactly one of url and image", clean)
		}
		// A snap ("snap:NAME?channel=C", fetched with `snap download`) has
		// no published-checksum URL: its checksum is the store-signed
		// assertion fetched with it, which snapd verifies the snap against
		// at `snap ack` + `snap install`. Every other url needs one.
		snap := strings.HasPrefix(a.URL, "snap:")
		if snap && a.Checksum != "" {
			return fmt.Errorf("artifact %s: a snap: url takes no checksum (the snap's assertion is its checksum)", clean)
		}
		if a.URL != "" && !snap && a.Checksum == "" {
			return fmt.Errorf("artifact %s has a url but no published checksum", clean)
		}
	}
	return nil
}

// kubernetesHooks are the shared hooks, by hook name, as functions of
// lib/kubernetes.sh.
var kubernetesHooks = map[string]string{
	HookReady:         "k8s_ready",
	HookWorkload:      "k8s_workload",
	HookWorkloadReady: "k8s_workload_ready",
	HookAPI:           "k8s_api",
}

func (p *Profile) useKubernetesHooks() error {
	k := p.Kubernetes
	if k.Kubectl == "" || k.Kubeconfig == "" || k.APIServer == "" {
		return fmt.Errorf("kubernetes needs kubectl, kubeconfig and apiServer")
	}
	if k.MinSystemPods != nil && *k.MinSystemPods < 0 {
		return fmt.Errorf("kubernetes: minSystemPods is negative")
	}
	if p.Hooks == nil {
		p.Hooks = map[string]string{}
	}
	for hook, fn := range kubernetesHooks {
		if _, own := p.Hooks[hook]; !own {
			p.Hooks[hook] = fn
		}
	}
	return nil
}

// Library is the shell the profile's hooks rely on: its own functions and,
// for a Kubernetes profile, the shared library with its parameters.
func (p Profile) Library() string {
	k := p.Kubernetes
	if k == nil {
		return p.optionsScript() + p.Functions
	}
	minPods := 1
	if k.MinSystemPods != nil {
		minPods = *k.MinSystemPods
	}
	return "K8S_KUBECTL=" + shellQuote(k.Kubectl) + "\n" +
		"K8S_KUBECONFIG=" + shellQuote(k.Kubeconfig) + "\n" +
		"K8S_API=" + shellQuote(k.APIServer) + "\n" +
		fmt.Sprintf("K8S_MIN_PODS=%d\n", minPods) +
		p.optionsScript() + kubernetesLib + p.Functions
}

// KubernetesLibrary is the shared hook library as shipped, for tests.
func KubernetesLibrary() string { return kubernetesLib }

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Get returns a registered profile; for a built-in variant, the profile it
// installs with the variant's options chosen.
func Get(name string) (Profile, bool) {
	ensureLoaded()
	if v, ok := variants[name]; ok {
		p, _ := loaded[v.VariantOf].With(v.Options) // checked when loaded
		return p, true
	}
	p, ok := loaded[name]
	return p, ok
}

// Exists reports whether a profile, or a built-in variant, is registered.
func Exists(name string) bool {
	_, ok := Get(name)
	return ok
}

// Names lists the built-in profiles and variants in registry order; they
// are the default experiment.
func Names() []string { return append([]string(nil), registry...) }

// All lists every profile, built-in and extra; not the built-in variants,
// which VariantOf describes.
func All() []string {
	ensureLoaded()
	return append([]string(nil), order...)
}

// Files lists the embedded definitions, so tests can check that every file
// is registered and every registered name has a file.
func Files() ([]string, error) {
	entries, err := defs.ReadDir("defs")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names, nil
}
