package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

func fixtureRun() record.Run {
	free := int64(150 * 1024)
	ok := results.Result{SchemaVersion: 1, Node: "bare", Profile: "bare", Status: results.StatusOK,
		OS: results.OS{PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-40-cloud-amd64"},
		Phases: []results.Phase{{Name: "boot", Status: results.StatusOK, EndedAt: 64.7}, {Name: "install", Status: results.StatusSkipped, StartedAt: 64.7, EndedAt: 64.7},
			{Name: "ready", Status: results.StatusSkipped, StartedAt: 64.7, EndedAt: 64.7}, {Name: "settle", Status: results.StatusOK, StartedAt: 65, EndedAt: 75}, {Name: "idle", Status: results.StatusOK, StartedAt: 75, EndedAt: 80.9}},
		Samples: []results.Sample{
			{Phase: "idle", UsedKiB: 171520, FreeUsedKiB: &free, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
			{Phase: "idle", UsedKiB: 171524, FreeUsedKiB: &free, MeminfoKiB: map[string]int64{"MemTotal": 996556}},
		},
		Machine:    &results.Machine{Name: "footprint-ci-bare", VCPUs: 1, MemoryMiB: 1024, DiskGiB: 4, Hypervisor: "libvirt/qemu", Image: "build/images/test.qcow2", ImageSHA256: "e6992b7196490000"},
		Collection: &results.Collection{Seconds: 88.2, Attempts: 30},
	}
	lost := results.Result{Node: "k3s", Profile: "k3s", Status: results.StatusTimeout,
		Collection: &results.Collection{Error: "no result within 10m0s (80 attempts, last: connection refused)", LastConsoleLine: "footprint: node=k3s phase=install status=started uptime=66.0"}}
	kib := func(v int64) *int64 { return &v }
	secs := func(v float64) *float64 { return &v }
	docker := results.Result{SchemaVersion: 1, Node: "docker", Profile: "docker", Status: results.StatusOK,
		SystemVersion: "docker 20.10.24 (containerd 1.6.20)",
		OS:            results.OS{PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-40-cloud-amd64"},
		Phases: []results.Phase{{Name: "boot", Status: results.StatusOK, EndedAt: 70}, {Name: "install", Status: results.StatusPreinstalled, StartedAt: 70, EndedAt: 70},
			{Name: "ready", Status: results.StatusOK, StartedAt: 70, EndedAt: 71}, {Name: "workloadReady", Status: results.StatusOK, StartedAt: 90, EndedAt: 130.5},
			{Name: "api", Status: results.StatusOK, StartedAt: 150, EndedAt: 156}},
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
	return record.Run{ID: "20261125T123833Z-ci", Stack: "ci", StartedAt: time.Date(2026, 11, 25, 12, 38, 33, 0, time.UTC),
		Nodes: []results.Result{lost, ok, docker}, Timings: record.Timings{UpSeconds: 94.4, DestroySeconds: 2.8},
		Experiment: ranWith("mysql:8.4")}
}

func TestMarkdownIsTheSeedTable(t *testing.T) {
	md := Markdown(fixtureRun())
	for _, want := range []string{
		"![Used memory per system, idle and with MySQL, against MemTotal](chart.svg)",
		"## 1024 MiB VM",
		// Each figure of the seed beside footprint's, OOM kills from the last breakdown.
		"| System | Version | Used idle (MiB) | Seed idle (MiB)¹ | Used with MySQL (MiB) | Seed with MySQL (MiB)¹ | MemTotal (MiB) | " +
			"API after MySQL | Seed API after MySQL¹ | OOM kills | free's used idle (MiB) | Status |\n" +
			"|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|\n",
		"| bare | – | 168 | 167 | – | – | 973 | – | – | – | 150 | ok |",
		"| k3s | – | – | 750 | – | 868 | – | – | stopped answering | – | – | timeout |",
		"| docker | docker 20.10.24 (containerd 1.6.20) | 230 | 216 | 400 | 396 | 973 | degraded (2/3), 7/10 ms | – | 1 | – | ok |",
		"¹ Seed (1 GB, Ubuntu Minimal, 2022):",
		"`free -m` prints mebibytes: its figures are MiB",
		"868 MiB used, and says their API servers stopped answering",
		"1 vCPU, 1024 MiB, 4 GiB disk, libvirt/qemu",
		"started 2026-11-25 12:38 UTC",
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
	// A single size and a single repeat: no sweep or repeat sections.
	for _, unwanted := range []string{"Repeats |", "## Each repeat", "## Smallest VM", "Notes from the nodes", "MB)"} {
		if strings.Contains(md, unwanted) {
			t.Errorf("report of a single run has %q", unwanted)
		}
	}
}

func TestMarkdownRepeatsSweepsAndFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		run       record.Run
		want, not []string
	}{{
		name: "repeats",
		run:  repeatsRun(),
		want: []string{
			"Each system measured 3 times per size.",
			"| Status | Repeats |",
			// Median of the repeats' medians (701, 720, 760) and their min–max.
			"| k3s | v1.31.4+k3s1 | 720 (701–760) | 750 | 910 (900–950) | 868 | 973 | responsive 2/3, unresponsive 1/3, 5 ms | stopped answering | – | 700 | ok 3/3 | 3 |",
			"| docker | docker 27.3.1 | 216 (210–230) | 216 | 610 (600–620) | 396 | 973 | responsive 3/3, 5 ms | – | – | 196 | ok 3/3 | 3 |",
			"OOM kills: processes the kernel killed for lack of memory since boot, as the agent counted them in the kernel log at its last breakdown, summed over repeats.",
			"## Each repeat",
			"| k3s-r3 | 1024 | 3 | 760 | 950 | unresponsive (0/3) | – | ok |",
			"| k3s-r1 | 1024 | 1 | 701 (700–702) | 900 | responsive (3/3), 5/9 ms | – | ok |",
		},
		not: []string{"## Smallest VM", "## Problems"},
	}, {
		name: "sweep",
		run:  sweepRun(),
		want: []string{
			"1 vCPU, 512, 1024, 2048 MiB, libvirt/kvm",
			"## 512 MiB VM", "## 1024 MiB VM", "## 2048 MiB VM",
			// The seed measured 1 GB only: its columns are in that table alone.
			"## 512 MiB VM\n\n| System | Version | Used idle (MiB) | Used with MySQL (MiB) | MemTotal (MiB) | API after MySQL | OOM kills | free's used idle (MiB) | Status |\n",
			"## 2048 MiB VM\n\n| System | Version | Used idle (MiB) | Used with MySQL (MiB) | MemTotal (MiB) | API after MySQL | OOM kills | free's used idle (MiB) | Status |\n",
			"| k3s | v1.31.4+k3s1 | 307 | 447 | 461 | unresponsive (0/3) | – |",
			"| k3s | v1.31.4+k3s1 | 614 | 750 | 944 | 868 | 973 | responsive (3/3), 5/9 ms | stopped answering |",
			"| k3s | v1.31.4+k3s1 | 1229 | 1937 | 1997 | responsive (3/3), 5/9 ms | – |",
			// The node that never answered lacks a machine record: its name places it.
			"| k0s | – | – | – | – | – | – | – | timeout |",
			"## Smallest VM whose API survived MySQL",
			"- k3s: 1024 MiB\n",
			"- k0s: none (of 512, 1024, 2048 MiB)\n",
			"- bare: – (no API probed)\n",
			// Per-node tables by size, not by name.
			"| bare-512m | – |",
		},
		not: []string{"Repeats |", "## Each repeat"},
	}, {
		name: "failed",
		run:  failedRun(),
		want: []string{
			"| docker | docker 27.3.1 | 220 | 216 | 964 (960–968) | 396 | 973 | unresponsive (0/3) | – | – | 200 | ok |",
			"| k0s | – | – | 658 | – | 868 | – | – | stopped answering | – | – | failed |",
			"| k3s | – | – | 750 | – | 868 | – | – | stopped answering | – | – | unresponsive |",
			// No machine record, a single size in the run: placed at that size.
			"| microk8s | – | – | 685 | – | 868 | – | – | stopped answering | – | – | timeout |",
			"- k0s: install: exit status 1",
			"- k3s: no result within 30m0s; last console line: footprint: node=k3s phase=workloadReady status=started uptime=212.0",
			"- microk8s: no result within 30m0s",
		},
		not: []string{"VM size unknown", "## Smallest VM"},
	}, {
		name: "facts",
		run:  factsRun(),
		want: []string{
			// A system the seed did not measure has no seed figures, even at 1 GB.
			"| kubeadm | v1.36.3 | 800 | – | 990 | – | 973 | unresponsive (0/3) | – | 2 | 780 | ok |",
			"| k3s | v1.36.4+k3s1 | 614 | 750 | 944 | 868 | 973 | responsive (3/3), 5/9 ms | stopped answering | 0 | 594 | ok |",
			"| kubeadm | v1.36.3 | 820 | 1300 | 1997 | responsive (3/3), 5/9 ms | 0 | 800 | ok |",
			"| k3s | v1.36.4+k3s1 | 640 | 1100 | 1997 | responsive (3/3), 5/9 ms | – | 620 | ok |",
			// Each size's notes under its own table, one line per fact, in words.
			"says their API servers stopped answering. It measured this VM size only.\n\nNotes from the nodes:\n\n" +
				"- kubeadm-1024m: preflight checks ignored: NumCPU, Mem\n" +
				"- kubeadm-1024m: preflight warnings: [WARNING NumCPU]: the number of available CPUs 1 is less than the required 2 " +
				"[WARNING Mem]: the system RAM (973 MB) is less than the minimum 1700 MB\n\n## 2048 MiB VM",
			"| kubeadm | v1.36.3 | 820 | 1300 | 1997 | responsive (3/3), 5/9 ms | 0 | 800 | ok |\n\nNotes from the nodes:\n\n- kubeadm-2048m: preflight checks ignored: NumCPU\n\n",
		},
		not: []string{"k3s-1024m: ", "k3s-2048m: "},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			md := Markdown(tc.run)
			for _, want := range tc.want {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q\n%s", want, md)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(md, not) {
					t.Errorf("report has %q\n%s", not, md)
				}
			}
			if strings.Count(md, "## ") != strings.Count(md, "\n## ") {
				t.Errorf("a heading is not at the start of a line")
			}
		})
	}
	// The sweep's sizes come out in order.
	md := Markdown(sweepRun())
	if a, b, c := strings.Index(md, "## 512 MiB"), strings.Index(md, "## 1024 MiB"), strings.Index(md, "## 2048 MiB"); !(a < b && b < c) {
		t.Errorf("sizes out of order: %d %d %d", a, b, c)
	}
}

func TestWriteAndReadBack(t *testing.T) {
	dir := t.TempDir()
	run := fixtureRun()
	if err := writeRun(dir, run); err != nil {
		t.Fatal(err)
	}
	got, err := record.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != record.SchemaVersion || got.ID != run.ID || len(got.Nodes) != 3 || got.Nodes[0].Node != "bare" {
		t.Errorf("read back %+v", got)
	}
	if s, ok := got.Nodes[0].Summarize("idle"); !ok || s.Samples != 2 {
		t.Errorf("samples lost in the round trip: %+v", s)
	}
	if run.Nodes[0].Node != "k3s" {
		t.Errorf("Write reordered the caller's nodes")
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil || !strings.Contains(string(md), "| bare | – | 168") {
		t.Errorf("report.md: %v", err)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "chart.svg report.md results.csv results.json" {
		t.Errorf("run folder holds %v, want chart.svg report.md results.csv results.json", names)
	}
}

// Facts reach results.json with the node, and report.md from it.
func TestFactsSurviveTheRunFolder(t *testing.T) {
	dir := t.TempDir()
	if err := writeRun(dir, factsRun()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, record.File))
	if !strings.Contains(string(data), `"facts": {`) || !strings.Contains(string(data), `"preflightIgnored": "NumCPU,Mem"`) {
		t.Errorf("results.json lacks the facts")
	}
	if strings.Count(string(data), `"facts"`) != 2 {
		t.Errorf("results.json has facts on nodes that reported none")
	}
	run, err := record.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range run.Nodes {
		if r.Node == "kubeadm-1024m" && r.Facts["preflightIgnored"] != "NumCPU,Mem" {
			t.Errorf("facts read back %v", r.Facts)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, ReportFile))
	if !strings.Contains(string(md), "- kubeadm-1024m: preflight checks ignored: NumCPU, Mem\n") {
		t.Errorf("report.md lacks the note")
	}
}

// Render is `footprint report`: it rebuilds the derived files from
// results.json and leaves results.json alone.
func TestRenderRebuildsFromResultsJSON(t *testing.T) {
	dir := t.TempDir()
	if err := writeRun(dir, sweepRun()); err != nil {
		t.Fatal(err)
	}
	source, _ := os.ReadFile(filepath.Join(dir, record.File))
	want := map[string][]byte{}
	for _, f := range []string{ReportFile, CSVFile, ChartFile} {
		want[f], _ = os.ReadFile(filepath.Join(dir, f))
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	run, err := record.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Render(dir, run); err != nil {
		t.Fatal(err)
	}
	for f, w := range want {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || string(got) != string(w) {
			t.Errorf("%s re-rendered from results.json differs from the one the run wrote (%v)", f, err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, record.File)); string(after) != string(source) {
		t.Error("Render changed results.json")
	}
}

func TestReadRejectsOtherSchemas(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, record.File), []byte(`{"schemaVersion":2,"id":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := record.Read(dir); err == nil || !strings.Contains(err.Error(), "schema version 2") {
		t.Errorf("Read = %v, want a schema version error", err)
	}
	if _, err := record.Read(t.TempDir()); err == nil {
		t.Error("Read of an empty folder succeeded")
	}
}

// The seed's columns and footnote belong to the 1024 MiB table only, once.
func TestSeedFiguresOnlyAtTheSeedsSize(t *testing.T) {
	md := Markdown(sweepRun())
	sections := strings.Split(md, "\n## ")
	for _, sec := range sections {
		seedCols := strings.Contains(sec, "Seed idle (MiB)¹")
		if strings.HasPrefix(sec, "1024 MiB VM") != seedCols {
			t.Errorf("section %q: seed columns %v", strings.SplitN(sec, "\n", 2)[0], seedCols)
		}
	}
	if strings.Count(md, "¹ Seed (1 GB, Ubuntu Minimal, 2022)") != 1 {
		t.Errorf("the seed's footnote is not there exactly once")
	}
	if f, ok := SeedOf("k3s", 1024); !ok || f.IdleMiB != 750 || f.WithMySQLMiB != 868 || !f.APIStopped {
		t.Errorf("seed of k3s at 1024 MiB: %+v %v", f, ok)
	}
	if _, ok := SeedOf("k3s", 2048); ok {
		t.Error("the seed has a figure at 2048 MiB")
	}
	if _, ok := SeedOf("kubeadm", 1024); ok {
		t.Error("the seed has a figure of kubeadm")
	}
	// The seed's figures as the README quotes them.
	want := map[string]int{"bare": 167, "docker": 216, "k0s": 658, "k3s": 750, "microk8s": 685, "microk8s-noha": 526}
	for p, v := range want {
		if Seed[p].IdleMiB != v {
			t.Errorf("seed idle of %s = %d, want %d", p, Seed[p].IdleMiB, v)
		}
	}
	if len(Seed) != len(want) || Seed["docker"].WithMySQLMiB != 396 || Seed["docker"].APIStopped || Seed["bare"].WithMySQLMiB != 0 {
		t.Errorf("seed %+v", Seed)
	}
}

func TestFactTextIsOneLineOfPlainMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"NumCPU,Mem":              "NumCPU, Mem",
		"NumCPU":                  "NumCPU",
		"a, b":                    "a, b",
		"  line one\n\tline two ": "line one line two",
		"<b>bold</b> *x* `y` a_b": "\\<b>bold\\</b> \\*x\\* \\`y\\` a\\_b",
		"":                        "",
		strings.Repeat("é", 400):  strings.Repeat("é", 300) + "…",
	} {
		if got := factText(in); got != want {
			t.Errorf("factText(%q) = %q, want %q", in, got, want)
		}
	}
	// Unknown facts keep their name; empty ones are left out.
	r := results.Result{Node: "k0s", Facts: map[string]string{"zeta": "1", "preflightIgnored": "Mem", "alpha": "x", "empty": " "}}
	if got := strings.Join(noteLines(r), "\n"); got != "k0s: preflight checks ignored: Mem\nk0s: alpha: x\nk0s: zeta: 1" {
		t.Errorf("notes:\n%s", got)
	}
}

// A variant is its own row, beside its profile's, saying what it chose, and
// never beside the seed's figure of its profile.
func TestAVariantIsShownBesideItsProfile(t *testing.T) {
	run := fixtureRun()
	lean := run.Nodes[2]
	lean.Node = "docker-lean"
	lean.Variant = &results.Variant{Name: "docker-lean", Options: []results.VariantOption{
		{Name: "liveRestore", Env: map[string]string{"DOCKER_LIVE_RESTORE": "true"}}, {Name: "noUserlandProxy", Env: map[string]string{"X": "1"}}}}
	run.Nodes = append(run.Nodes, lean)
	md := Markdown(run)
	row := ""
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| docker-lean (docker with liveRestore, noUserlandProxy) |") {
			row = l
		}
	}
	if row == "" || !strings.Contains(md, "\n| docker | ") {
		t.Fatalf("no separate rows for docker and its variant:\n%s", md)
	}
	// The seed measured Docker; its figures stand beside docker, not the variant.
	if cells := strings.Split(row, "|"); strings.TrimSpace(cells[4]) != "–" {
		t.Errorf("the variant's row shows a seed figure: %s", row)
	}
	data, err := CSV(run)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "docker-lean,docker-lean,") || !strings.Contains(string(data), ",docker,liveRestore;noUserlandProxy,") {
		t.Errorf("results.csv lacks the variant's profile and options:\n%s", data)
	}
}

// A node that stopped before its samples still says what its memory was
// when it stopped: the timeline's last reading, beside why it stopped.
func TestAFailedNodeKeepsItsLastMemoryReading(t *testing.T) {
	run := fixtureRun()
	failed := results.Result{SchemaVersion: 1, Node: "kubeadm", Profile: "kubeadm", Status: results.StatusFailed,
		Detail:   "hook installOffline exited 1",
		Phases:   []results.Phase{{Name: "boot", Status: results.StatusOK, EndedAt: 100}, {Name: "install", Status: results.StatusFailed, StartedAt: 100, EndedAt: 392}},
		Timeline: &results.Timeline{IntervalSeconds: 5, Points: [][3]float64{{100, 200 * 1024, 700 * 1024}, {390, 512.5 * 1024, 400 * 1024}}},
	}
	run.Nodes = append(run.Nodes, failed)
	md := Markdown(run)
	if want := "- kubeadm: hook installOffline exited 1; its last memory reading: used 512.5 MiB at 390 s of uptime"; !strings.Contains(md, want) {
		t.Errorf("report lacks %q:\n%s", want, md)
	}
}

// A run folder is its user's alone: results and logs name hosts and
// addresses. A folder made wider, with a file a write left behind, is
// narrowed by the first write.
func TestRunFolderIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, record.File+".tmp"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := fixtureRun()
	if err := writeRun(dir, run); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != record.DirMode {
		t.Errorf("folder mode %v (%v), want %v", st.Mode().Perm(), err, record.DirMode)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || st.Mode().Perm() != record.FileMode {
			t.Errorf("%s: mode %v (%v), want %v", e.Name(), st.Mode().Perm(), err, record.FileMode)
		}
	}
}

// The instrument's own cost is one line per node whose breakdowns carry
// it; a figure the agent could not read is a dash.
func TestMarkdownGivesTheAgentsOwnCost(t *testing.T) {
	run := fixtureRun()
	kib := func(v int64) *int64 { return &v }
	for i := range run.Nodes {
		if run.Nodes[i].Node == "docker" {
			run.Nodes[i].Breakdowns[0].Agent = &results.AgentFootprint{Cgroup: "system.slice/footprint-agent.service",
				CgroupKiB: kib(3072), AnonKiB: kib(1024), FileKiB: kib(1536), PSSKiB: nil, Processes: 3}
		}
	}
	md := Markdown(run)
	for _, want := range []string{"The instrument's own cost (MiB): the agent's cgroup at each breakdown",
		"\n- docker: workload 3.0 (anon 1.0, file 1.5; PSS –)\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, "- bare:") {
		t.Errorf("a cost line for bare, whose breakdowns do not carry it:\n%s", md)
	}
	if md := Markdown(fixtureRun()); strings.Contains(md, "instrument's own cost") {
		t.Errorf("a cost paragraph without any agent figures:\n%s", md)
	}
}

// writeRun is what the runner does with a run's record: stores it, then
// renders the folder from it.
func writeRun(dir string, run record.Run) error {
	if err := record.Write(dir, run); err != nil {
		return err
	}
	return Render(dir, run)
}
