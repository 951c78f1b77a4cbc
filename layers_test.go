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
	backends := backendPackages(t)
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.Fields(strings.ReplaceAll(f[0], "[", " "))[0] // "p [p.test]" of a test variant
		for _, imp := range f[1:] {
			for _, b := range backends {
				if imp != b {
					continue
				}
				seen[b] = true
				if pkg != module+"/infra" && !strings.HasPrefix(pkg, b) {
					t.Errorf("%s imports backend %s: only infra's registry may", pkg, b)
				}
			}
		}
	}
	for _, b := range backends {
		if !seen[b] {
			t.Errorf("no package imports backend %s: is it missing from the registry?", b)
		}
	}
}

// backendPackages are the module's backends: every package under infra/
// but the contract (infra/machine), found, not listed, so that a new
// backend is covered the day it is added.
func backendPackages(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "./infra/...").Output()
	if err != nil {
		t.Fatalf("go list ./infra/...: %v", err)
	}
	var backends []string
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(pkg, module+"/infra")
		if rel == "" || rel == "/machine" || strings.Count(rel, "/") > 1 {
			continue
		}
		backends = append(backends, pkg)
	}
	if len(backends) < 2 {
		t.Fatalf("backends %v: want libvirt and aws at least", backends)
	}
	return backends
}

// The contract between the program and a backend stands on nothing of
// footprint's, and the program does not link what only one command uses
// (the artifacts fetcher): go list's view of what each depends on.
func TestTheContractAndTheProgramStandOnLittle(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, d := range deps("./infra/machine") {
		if strings.HasPrefix(d, module+"/") && d != module+"/infra/machine" {
			t.Errorf("the contract infra/machine depends on %s", d)
		}
	}
	program := deps("./infra")
	if len(program) < 20 {
		t.Fatalf("go list -deps ./infra: only %v", program)
	}
	for _, d := range program {
		if d == module+"/artifacts/fetch" || strings.HasPrefix(d, module+"/runner") {
			t.Errorf("the program depends on %s", d)
		}
	}
}
