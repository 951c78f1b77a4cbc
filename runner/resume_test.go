package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --resume of a folder whose results.json names a node "../x" is refused
// in one line naming the node before the run is written back there.
func TestResumeRefusesAHostileNodeName(t *testing.T) {
	dir := testProject(t, "")
	parent := t.TempDir()
	prev := filepath.Join(parent, "run")
	must(t, os.Mkdir(prev, 0o755))
	hostile := `{"schemaVersion": 1, "id": "r", "stack": "t", "nodes": [{"schemaVersion": 1, "node": "../escaped", "profile": "bare", "status": "ok",
  "timeline": {"intervalSeconds": 5, "points": [[10, 100000, 900000], [15, 120000, 880000]]}}]}`
	must(t, os.WriteFile(filepath.Join(prev, "results.json"), []byte(hostile), 0o644))
	var out bytes.Buffer
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}}
	o := options(dir, &fakeBackend{}, s, &out)
	o.Resume = prev
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), `node "../escaped"`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v, want one line naming the node", err)
	}
	if _, err := os.Stat(filepath.Join(parent, "escaped.timeline.svg")); !os.IsNotExist(err) {
		t.Errorf("a file was written outside the run folder (%v)", err)
	}
}
