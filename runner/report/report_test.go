package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/results"
)

func fixtureRun() Run {
	free := int64(150 * 1024)
	ok := results.Result{SchemaVersion: 1, Node: "bare", Profile: "bare", Status: results.StatusOK,
		OS:     results.OS{PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-40-cloud-amd64"},
		Phases: []results.Phase{{Name: "boot", EndedAt: 64.7}, {Name: "settle", StartedAt: 65, EndedAt: 75}, {Name: "idle", StartedAt: 75, EndedAt: 80.9}},
		Samples: []results.Sample{
			{Phase: "idle", UsedKiB: 171520, FreeUsedKiB: &free, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
			{Phase: "idle", UsedKiB: 171524, FreeUsedKiB: &free, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
		},
		Machine:    &results.Machine{Name: "footprint-ci-bare", VCPUs: 1, MemoryMiB: 1024, Hypervisor: "libvirt/qemu", Image: "build/images/test.qcow2", ImageSHA256: "e6992b7196490000"},
		Collection: &results.Collect{Seconds: 88.2, Attempts: 30},
	}
	lost := results.Result{Node: "k3s", Profile: "k3s", Status: results.StatusTimeout,
		Collection: &results.Collect{Error: "no result within 10m0s (80 attempts, last: connection refused)", LastConsoleLine: "footprint: node=k3s phase=install status=started uptime=66.0"}}
	return Run{ID: "20261125T123833Z-ci", Stack: "ci", StartedAt: time.Date(2026, 11, 25, 12, 38, 33, 0, time.UTC),
		Nodes: []results.Result{lost, ok}, Timings: Timings{UpSeconds: 94.4, DestroySeconds: 2.8}}
}

func TestMarkdownIsTheSeedTable(t *testing.T) {
	md := Markdown(fixtureRun())
	for _, want := range []string{
		"| System | Used idle (MiB) | MemTotal (MiB) | free's used (MiB) | Seed 2022 (MB) | OS | Status |",
		"| bare | 168 | 973 | 150 | 167 | Debian GNU/Linux 12 (bookworm) | ok |",
		"| k3s | – | – | – | 750 | – | timeout |",
		"1 vCPU, 1024 MiB, libvirt/qemu",
		"sha256 `e6992b719649`",
		"| bare | 64.7 | 10.0 | 5.9 | 80.9 | 88.2 |",
		"Host: up 94.4 s, destroy 2.8 s.",
		"- k3s: no result within 10m0s (80 attempts, last: connection refused); last console line: footprint: node=k3s phase=install status=started uptime=66.0",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
}

func TestWriteAndReadBack(t *testing.T) {
	dir := t.TempDir()
	run := fixtureRun()
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != SchemaVersion || got.ID != run.ID || len(got.Nodes) != 2 || got.Nodes[0].Node != "bare" {
		t.Errorf("read back %+v", got)
	}
	if s, ok := got.Nodes[0].Summarize("idle"); !ok || s.Samples != 2 {
		t.Errorf("samples lost in the round trip: %+v", s)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil || !strings.Contains(string(md), "| bare | 168") {
		t.Errorf("report.md: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("run folder holds %d files, want results.json and report.md only", len(entries))
	}
}
