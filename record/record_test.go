package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/results"
)

// The record goes into a private folder and comes back as it was written,
// its nodes in order; a record naming a node footprint would not make is
// refused before anything is written beside it.
func TestARecordRoundTripsInAPrivateFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := Run{ID: "r1", Stack: "t", Nodes: []results.Result{{Node: "docker"}, {Node: "bare"}}, NotRun: []string{"k3s"}}
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: DirMode, filepath.Join(dir, File): FileMode} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode().Perm(), err, want)
		}
	}
	back, err := Read(dir)
	if err != nil || back.SchemaVersion != SchemaVersion || back.ID != "r1" || len(back.Nodes) != 2 || back.Nodes[0].Node != "bare" || back.NotRun[0] != "k3s" {
		t.Fatalf("read back %+v, %v", back, err)
	}
	if err := CheckNodeNames(dir, back); err != nil {
		t.Errorf("footprint's own names: %v", err)
	}
	back.Nodes[0].Node = "../x"
	if err := CheckNodeNames(dir, back); err == nil || !strings.Contains(err.Error(), File) {
		t.Errorf("a node named ../x: %v", err)
	}
}
