// Package profiles holds the systems footprint measures. A profile is data:
// one YAML file under defs/ with the shell hooks the in-guest agent runs, and
// one entry in the registry below. Nothing else changes to add a system.
package profiles

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed defs/*.yaml
var defs embed.FS

// registry is the order profiles are listed and run in by default.
var registry = []string{
	"bare",
	"docker",
	"k0s",
	"k3s",
	"microk8s",
	"microk8s-noha",
}

// HookNames are the hooks the agent knows, in the order it runs them. Each
// is a POSIX shell snippet run as root in its own shell; a missing hook is a
// phase the profile skips. ready and workloadReady are checks the agent
// retries until they pass; api prints "<http code> <seconds>" for one
// bounded request. Hooks may read VERSION, MYSQL_PASSWORD, MYSQL_IMAGE,
// API_TIMEOUT and RUN_DIR (a root-only scratch folder).
var HookNames = []string{"install", "ready", "version", "workload", "workloadReady", "api"}

// Profile is one system to measure.
type Profile struct {
	Name           string            `yaml:"name"`
	Description    string            `yaml:"description"`
	DefaultVersion string            `yaml:"defaultVersion"`
	Hooks          map[string]string `yaml:"hooks"`
	// APIClient says what the api hook uses, for the result.
	APIClient string `yaml:"apiClient"`
	// Units are the systemd units whose memory the agent accounts.
	Units []string `yaml:"units"`
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
				var p Profile
				p, err = parse(name, data)
				loaded[name], order = p, append(order, name)
			}
			if err != nil {
				panic(err) // a broken built-in profile is a build defect, caught by the tests
			}
		}
		if dir := os.Getenv(ExtraDirEnv); dir != "" {
			loadErr = loadExtra(dir)
		}
	})
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
		if _, dup := loaded[name]; dup {
			return fmt.Errorf("%s: profile %s is built in already", f, name)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		p, err := parse(name, data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		loaded[name], order = p, append(order, name)
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
	return p, nil
}

// Get returns a registered profile.
func Get(name string) (Profile, bool) {
	ensureLoaded()
	p, ok := loaded[name]
	return p, ok
}

// Exists reports whether a profile is registered.
func Exists(name string) bool {
	_, ok := Get(name)
	return ok
}

// Names lists the built-in profiles in registry order; they are the default
// experiment.
func Names() []string { return append([]string(nil), registry...) }

// All lists every profile, built-in and extra.
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
