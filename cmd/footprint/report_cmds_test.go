package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run folder from elsewhere whose results.json names a node "../x" (with
// a timeline, so that Render would write x.timeline.svg beside the folder)
// is refused in one line naming the node, and nothing is written.
func TestReportRefusesAHostileNodeName(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hostile := `{"schemaVersion": 1, "id": "r", "stack": "t", "nodes": [{"schemaVersion": 1, "node": "../escaped", "profile": "bare", "status": "ok",
  "timeline": {"intervalSeconds": 5, "points": [[10, 100000, 900000], [15, 120000, 880000]]}}]}`
	if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(hostile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := root(context.Background())
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"report", dir})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), `node "../escaped"`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v, want one line naming the node", err)
	}
	for _, p := range []string{filepath.Join(parent, "escaped.timeline.svg"), filepath.Join(dir, "report.md")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s was written (%v)", p, err)
		}
	}
}
