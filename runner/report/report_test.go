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
		OS: results.OS{PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-40-cloud-amd64"},
		Phases: []results.Phase{{Name: "boot", Status: "ok", EndedAt: 64.7}, {Name: "install", Status: "skipped", StartedAt: 64.7, EndedAt: 64.7},
			{Name: "ready", Status: "skipped", StartedAt: 64.7, EndedAt: 64.7}, {Name: "settle", Status: "ok", StartedAt: 65, EndedAt: 75}, {Name: "idle", Status: "ok", StartedAt: 75, EndedAt: 80.9}},
		Samples: []results.Sample{
			{Phase: "idle", UsedKiB: 171520, FreeUsedKiB: &free, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
			{Phase: "idle", UsedKiB: 171524, FreeUsedKiB: &free, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
		},
		Machine:    &results.Machine{Name: "footprint-ci-bare", VCPUs: 1, MemoryMiB: 1024, Hypervisor: "libvirt/qemu", Image: "build/images/test.qcow2", ImageSHA256: "e6992b7196490000"},
		Collection: &results.Collect{Seconds: 88.2, Attempts: 30},
	}
	lost := results.Result{Node: "k3s", Profile: "k3s", Status: results.StatusTimeout,
		Collection: &results.Collect{Error: "no result within 10m0s (80 attempts, last: connection refused)", LastConsoleLine: "footprint: node=k3s phase=install status=started uptime=66.0"}}
	kib := func(v int64) *int64 { return &v }
	secs := func(v float64) *float64 { return &v }
	docker := results.Result{SchemaVersion: 1, Node: "docker", Profile: "docker", Status: results.StatusOK,
		SystemVersion: "docker 20.10.24 (containerd 1.6.20)",
		OS:            results.OS{PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-40-cloud-amd64"},
		Phases: []results.Phase{{Name: "boot", Status: "ok", EndedAt: 70}, {Name: "install", Status: "preinstalled", StartedAt: 70, EndedAt: 70},
			{Name: "ready", Status: "ok", StartedAt: 70, EndedAt: 71}, {Name: "workloadReady", Status: "ok", StartedAt: 90, EndedAt: 130.5},
			{Name: "api", Status: "ok", StartedAt: 150, EndedAt: 156}},
		Samples: []results.Sample{
			{Phase: "idle", UsedKiB: 230 * 1024, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
			{Phase: "workload", UsedKiB: 400 * 1024, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
		},
		Breakdowns: []results.Breakdown{{Phase: "workload",
			UnitsKiB:     map[string]*int64{"docker.service": kib(60 * 1024), "containerd.service": nil},
			CgroupsKiB:   map[string]int64{"system.slice": 300 * 1024, "system.slice/docker-abc.scope": 150 * 1024, "init.scope": 8 * 1024, "user.slice": 2 * 1024},
			TopProcesses: []results.Process{{PID: 900, Name: "mariadbd", RSSKiB: 140 * 1024}, {PID: 500, Name: "dockerd", RSSKiB: 55 * 1024}},
			OOMKills:     1}},
		API: &results.API{Client: "curl", Successes: 2, Verdict: results.APIDegraded, Attempts: []results.APIAttempt{
			{HTTPCode: 200, Seconds: secs(0.004), OK: true}, {HTTPCode: 200, Seconds: secs(0.010), OK: true}, {HTTPCode: 0, OK: false}}},
	}
	return Run{ID: "20261125T123833Z-ci", Stack: "ci", StartedAt: time.Date(2026, 11, 25, 12, 38, 33, 0, time.UTC),
		Nodes: []results.Result{lost, ok, docker}, Timings: Timings{UpSeconds: 94.4, DestroySeconds: 2.8}}
}

func TestMarkdownIsTheSeedTable(t *testing.T) {
	md := Markdown(fixtureRun())
	for _, want := range []string{
		"| System | Version | Used idle (MiB) | Used with MySQL (MiB) | MemTotal (MiB) | API after MySQL | free's used idle (MiB) | Seed 2022 idle (MB) | Status |",
		"| bare | – | 168 | – | 973 | – | 150 | 167 | ok |",
		"| k3s | – | – | – | – | – | – | 750 | timeout |",
		"| docker | docker 20.10.24 (containerd 1.6.20) | 230 | 400 | 973 | degraded (2/3), 7/10 ms | – | 216 | ok |",
		"1 vCPU, 1024 MiB, libvirt/qemu",
		"sha256 `e6992b719649`",
		"OS: Debian GNU/Linux 12 (bookworm), kernel 6.1.0-40-cloud-amd64.",
		"| bare | 64.7 | skipped | skipped | – | 80.9 | 88.2 |",
		"| docker | 70.0 | preinstalled | 1.0 | 40.5 | 156.0 | – |",
		"| docker | workload | containerd.service –, docker.service 60 | system.slice/docker-abc.scope 150, init.scope 8, user.slice 2 | mariadbd 140, dockerd 55 | 1 |",
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
	if got.SchemaVersion != SchemaVersion || got.ID != run.ID || len(got.Nodes) != 3 || got.Nodes[0].Node != "bare" {
		t.Errorf("read back %+v", got)
	}
	if s, ok := got.Nodes[0].Summarize("idle"); !ok || s.Samples != 2 {
		t.Errorf("samples lost in the round trip: %+v", s)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil || !strings.Contains(string(md), "| bare | – | 168") {
		t.Errorf("report.md: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("run folder holds %d files, want results.json and report.md only", len(entries))
	}
}
