package infra

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Under plain `pulumi up` a search stack is refused before any resource:
// only footprint run searches, wave by wave. Handed a wave of the prepared
// stack, as footprint run does, the program creates only its sizes.
func TestProgramCreatesOnlyTheSizesASearchTries(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "i.qcow2"), bootSector(), 0o644); err != nil {
		t.Fatal(err)
	}
	search := `{"minMiB": 512, "maxMiB": 1024, "resolutionMiB": 256}`
	m := &mocks{}
	program := New(Options{Collect: (&collected{}).fn, ProjectDir: dir, ImageCache: dir})
	err := pulumi.RunErr(program, pulumi.WithMocks("footprint", "search", m), func(info *pulumi.RunInfo) {
		info.Config = map[string]string{"footprint:profiles": "bare", "footprint:image": "i.qcow2", "footprint:search": search}
	})
	if err == nil || !strings.Contains(err.Error(), "footprint:search: a search runs under `footprint run`") {
		t.Fatalf("err = %v", err)
	}
	for _, r := range m.got {
		if r.typ != "pulumi:pulumi:Stack" {
			t.Errorf("resource %s %s registered for a search under plain pulumi up", r.typ, r.name)
		}
	}

	m, _ = runPrepared(t, "search", map[string]string{"search": search}, map[string]string{"bare-768m": ""})
	domains := m.ofType("libvirt:index/domain:Domain")
	if len(domains) != 1 || num(domains[0], "memory") != 768 {
		t.Errorf("%d domains, want one of 768 MiB", len(domains))
	}
}
