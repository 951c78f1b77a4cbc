package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/footprint-dev/footprint"

// layer of a package of this module: cmd (with this program and bench)
// over runner over infra over everything else. A package may import only
// packages of a lower layer, or its own subpackages.
func layer(pkg string) int {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	switch {
	case rel == "" || strings.HasPrefix(rel, "cmd/") || rel == "bench" || strings.HasPrefix(rel, "bench/"):
		return 4
	case rel == "runner" || strings.HasPrefix(rel, "runner/"):
		return 3
	case rel == "infra":
		return 2
	default: // backends, contract, guest, results, config, profiles, collect, report, ...
		return 1
	}
}

// Dependencies point one way: cmd -> runner -> infra -> the rest.
func TestDependenciesPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := f[0]
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module) || strings.HasPrefix(imp, pkg+"/") {
				continue
			}
			checked++
			// Within the bottom layer packages use each other (a backend
			// the contract, report the results).
			if layer(imp) >= layer(pkg) && layer(pkg) > 1 {
				t.Errorf("%s imports %s: a package of layer %d may only import lower layers (%d)", pkg, imp, layer(pkg), layer(imp))
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d imports between packages of the module were seen: go list output?\n%s", checked, out)
	}
}

// A backend's knowledge stays in its package: only the program's registry
// (infra) imports a backend, everything else speaks the contract.
func TestOnlyTheRegistryImportsABackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	backends := []string{module + "/infra/libvirt"}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.Fields(strings.ReplaceAll(f[0], "[", " "))[0] // "p [p.test]" of a test variant
		for _, imp := range f[1:] {
			for _, b := range backends {
				if imp != b {
					continue
				}
				seen++
				if pkg != module+"/infra" && !strings.HasPrefix(pkg, b) {
					t.Errorf("%s imports backend %s: only infra's registry may", pkg, b)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no package imports a backend: is the registry gone?")
	}
}
