package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate says what a search stack tries: its systems and the sizes of
// its range, not a node count and one size that it will not run; a plain
// stack is said as before.
func TestValidateSaysWhatASearchTries(t *testing.T) {
	project := t.TempDir()
	stack := "config:\n  footprint:profiles: [bare, docker]\n  footprint:search: {minMiB: 512, maxMiB: 1024, resolutionMiB: 128, repeats: 2}\n"
	if err := os.MkdirAll(filepath.Join(project, "stacks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, "stacks", "Pulumi.t.yaml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := footprintCLI(t, "", "validate", "--stack", "t", "--project-dir", project)
	want := "stack t is valid: a search of 2 system(s) [bare docker], 1 vCPU, 512–1024 MiB in steps of 128 MiB (5 sizes, each tried 2 time(s)), backend libvirt"
	if code != 0 || !strings.HasPrefix(stdout, want) {
		t.Errorf("exit %d\n got %s\nwant %s…\n%s", code, stdout, want, stderr)
	}
	stdout, stderr, code = footprintCLI(t, "", "validate", "--stack", "t", "--project-dir", project, "--set", "search.maxMiB=1000")
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "footprint: footprint:search.resolutionMiB: 128 does not divide 512..1000 MiB") {
		t.Errorf("a bad field: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(project, "stacks", "Pulumi.t.yaml"), []byte("config:\n  footprint:profiles: [bare]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = footprintCLI(t, "", "validate", "--stack", "t", "--project-dir", project)
	if want := "stack t is valid: 1 node(s) [bare], 1 vCPU, 1024 MiB, backend libvirt"; code != 0 || !strings.HasPrefix(stdout, want) {
		t.Errorf("a plain stack: exit %d\n got %s\nwant %s…\n%s", code, stdout, want, stderr)
	}
}
