package report

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

func accounting(t *testing.T, name string) *results.Accounting {
	t.Helper()
	data, err := os.ReadFile("../results/testdata/accounting-" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var a results.Accounting
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

// explainedRun: a bare guest (~174 MiB used) and kubeadm's control plane
// (~614 MiB) at 1024 MiB, their breakdowns with the raw readings of
// results/testdata, as the agent records them (nothing derived yet).
func explainedRun(t *testing.T) record.Run {
	run := makeRun("20261207T100000Z-explained",
		node{name: "bare-1024m", profile: "bare", size: 1024, idle: []float64{173.9}},
		node{name: "kubeadm-1024m", profile: "kubeadm", size: 1024, idle: []float64{614.3}, work: []float64{700}, api: results.APIResponsive})
	pss := func(v int64) *int64 { return &v }
	apiserver := "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1c2a3b_4d5e_4f60_8a7b_9c0d1e2f3a4b.slice/" +
		"cri-containerd-a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f91.scope"
	run.Nodes[0].Breakdowns = []results.Breakdown{{Phase: "idle", Accounting: accounting(t, "bare")}}
	run.Nodes[1].Breakdowns = []results.Breakdown{{Phase: "idle", Accounting: accounting(t, "kubeadm"),
		TopProcesses: []results.Process{{PID: 1412, Name: "kube-apiserver", RSSKiB: 264192, PSSKiB: pss(245760)}, {PID: 900, Name: "kubelet", RSSKiB: 96256}},
		ProcessesByCgroup: map[string]results.ProcessGroup{
			apiserver: {PSSKiB: pss(245760), RSSKiB: 264192, Processes: 1, Largest: "kube-apiserver"},
			// the pod's pause container, under 1 MiB: its own cgroup is not listed
			strings.Replace(apiserver, "a1b2c3d4e5f6", "0f0e0d0c0b0a", 1): {PSSKiB: pss(120), RSSKiB: 700, Processes: 1, Largest: "pause"},
			"system.slice/kubelet.service":                                {PSSKiB: pss(80100), RSSKiB: 96256, Processes: 1, Largest: "kubelet"},
			"system.slice/containerd.service":                             {PSSKiB: pss(30200), RSSKiB: 52000, Processes: 6, Largest: "containerd"},
		}}}
	return run
}

func TestMarkdownSaysWhereTheUsedMemoryGoes(t *testing.T) {
	if md := Markdown(fixtureRun()); strings.Contains(md, "Where the used memory goes") {
		t.Error("a section for results without the agent's readings")
	}
	md := Markdown(explainedRun(t))
	for _, want := range []string{
		"## Where the used memory goes",
		"![Where the used memory goes, per system and phase](explained.svg)",
		"### bare-1024m, idle: 173.9 MiB used\n\n| Part | MiB | Share |\n|---|---:|---:|\n| kernel: unreclaimable slab | 12.1 | 6.9 % |",
		"| reserve: watermark reserve | 69.7 | 40.1 % |",
		"| cache: page cache not counted available | 55.0 | 31.6 % |",
		"| free: per-CPU free lists | 1.7 | 1.0 % |",
		"| user: system.slice (rest) | 1.3 | 0.7 % |",
		"| unexplained | 3.0 | 1.7 % |\n",
		"### kubeadm-1024m, idle: 614.3 MiB used",
		"| user: kubepods/burstable/pod 6f1c2a3b/cri-containerd a1b2c3d4e5f6 — kube-apiserver | 199.8 | 32.5 % |",
		"| user: kubepods/burstable/pod 6f1c2a3b — pause (rest) | 0.4 | 0.1 % |",
		"| user: system.slice (rest) | 5.3 | 0.9 % |",
		"| user: system.slice/kubelet.service — kubelet | 54.5 | 8.9 % |",
		"| unexplained | 8.9 | 1.4 % |",
		"Processes' PSS by unit and pod (MiB): kubepods/burstable/pod 6f1c2a3b (kube-apiserver) 240.1, system.slice/kubelet.service (kubelet) 78.2, system.slice/containerd.service (containerd) 29.5.",
		"| kubeadm-1024m | idle | – | – | kube-apiserver 258 (PSS 240), kubelet 94 | 0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "MemAvailable from the readings") {
		t.Error("a note that the formula was not reproduced, where it was")
	}
}

// A kernel whose MemAvailable the readings do not reproduce is named.
func TestMarkdownSaysWhenMemAvailableIsNotReproduced(t *testing.T) {
	run := explainedRun(t)
	run.Nodes[0].Breakdowns[0].Accounting.MeminfoKiB["MemAvailable"] += 2048
	if md := Markdown(run); !strings.Contains(md, "MemAvailable from the readings by 6.1's formula: 799.3 MiB, reported 801.3 MiB; the difference is in unexplained.") {
		t.Errorf("report:\n%s", md)
	}
}

// Each phase's row is followed by its parts' rows; those repeat which node
// and phase they are, carry no figure of the phase, and add up to used.
func TestCSVHasARowPerPart(t *testing.T) {
	rows := csvRows(t, explainedRun(t))
	var bare []map[string]string
	for _, r := range rows {
		if r["node"] == "bare-1024m" {
			bare = append(bare, r)
		}
	}
	if len(bare) != 1+16+1 || bare[0]["part"] != "" || bare[0]["used_mib_median"] != "173.9" {
		t.Fatalf("bare's rows: %v", bare)
	}
	sum := 0.0
	for _, r := range bare[1:] {
		if r["phase"] != "idle" || r["profile"] != "bare" || r["memory_mib"] != "1024" || r["part"] == "" || r["part_kind"] == "" ||
			r["samples"] != "" || r["used_mib_median"] != "" || r["oom_kills"] != "" {
			t.Errorf("part row %v", r)
		}
		v, err := strconv.ParseFloat(r["part_mib"], 64)
		if err != nil {
			t.Errorf("part_mib %q", r["part_mib"])
		}
		sum += v
	}
	if last := bare[len(bare)-1]; last["part"] != PartUnexplained || last["part_mib"] != "3.0" {
		t.Errorf("last part row %v", last)
	}
	if sum < 173.9-0.05*17 || sum > 173.9+0.05*17 {
		t.Errorf("parts add up to %.1f MiB, used is 173.9", sum)
	}
	for _, r := range csvRows(t, fixtureRun()) {
		if r["part"] != "" || r["part_mib"] != "" {
			t.Errorf("a part row without the agent's readings: %v", r)
		}
	}
}

// explained.svg: a stacked bar per node and phase, each kind of part told
// apart without colour, readable by a real renderer; written beside the
// report when a breakdown is explained, not otherwise.
func TestExplainedChart(t *testing.T) {
	svg, err := ExplainedChart(explainedRun(t))
	if err != nil || svg == nil {
		t.Fatalf("chart %v", err)
	}
	if err := wellFormed(svg); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	s := string(svg)
	for _, want := range []string{">bare-1024m</text>", ">kubeadm-1024m</text>", ">idle</text>", ">kernel</text>", ">anon + shmem by cgroup</text>",
		">cache not counted available</text>", ">watermark reserve</text>", ">per-CPU free lists</text>", ">unexplained</text>",
		">174</text>", ">614</text>", ">70</text>", ">400</text>"} {
		if !strings.Contains(s, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	for _, m := range strings.Split(s, "#")[1:] {
		if len(m) >= 6 && (m[0:2] != m[2:4] || m[2:4] != m[4:6]) {
			t.Errorf("chart uses colour #%s", m[:6])
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, ExplainedChartFile)
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Fatal("rsvg-convert is not installed (Debian package librsvg2-bin): run `make tools`")
	}
	if out, err := exec.Command(rsvg, "-o", filepath.Join(dir, "explained.png"), path).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v\n%s", err, out)
	}

	if svg, err := ExplainedChart(fixtureRun()); svg != nil || err != nil {
		t.Errorf("a chart without readings: %v", err)
	}
	for _, tc := range []struct {
		run  record.Run
		want bool
	}{{explainedRun(t), true}, {fixtureRun(), false}} {
		dir := t.TempDir()
		if err := Render(dir, tc.run); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, ExplainedChartFile)); (err == nil) != tc.want {
			t.Errorf("%s written: %v, want %v", ExplainedChartFile, err == nil, tc.want)
		}
	}
}

// results.json carries what Go computed, and reading it back computes it
// anew from the raw readings.
func TestWriteAndReadDeriveTheExplanation(t *testing.T) {
	dir := t.TempDir()
	run := explainedRun(t)
	if err := writeRun(dir, run); err != nil {
		t.Fatal(err)
	}
	if run.Nodes[0].Breakdowns[0].Explained != nil {
		t.Error("Write changed the caller's run")
	}
	data, err := os.ReadFile(filepath.Join(dir, record.File))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"unexplainedKiB": 3100`) || !strings.Contains(string(data), `"pssByUnitKiB"`) {
		t.Error("results.json lacks the explanation")
	}
	back, err := record.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e := back.Nodes[0].Breakdowns[0].Explained; e == nil || e.UnexplainedKiB != 3100 {
		t.Errorf("read back: %+v", e)
	}
}

// Cgroup paths as the systemd and cgroupfs drivers and Docker name them,
// shortened for a reader; other names stay as they are.
func TestShortCgroup(t *testing.T) {
	id := "4f2a9c1e7b3d5a6f8e0c2b4d6f8a0c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a"
	for path, want := range map[string]string{
		"system.slice/docker-" + id + ".scope":                                  "system.slice/docker 4f2a9c1e7b3d",
		"kubepods/burstable/pod6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b/" + id:      "kubepods/burstable/pod 6f1c2a3b/container 4f2a9c1e7b3d",
		"kubepods.slice/kubepods-pod77aa0011_2233_4455_6677_8899aabbccdd.slice": "kubepods/pod 77aa0011",
		"kubepods.slice/kubepods-besteffort.slice":                              "kubepods/besteffort",
		"system.slice/containerd.service":                                       "system.slice/containerd.service",
		"system.slice/snap.microk8s.daemon-kubelite.service":                    "system.slice/snap.microk8s.daemon-kubelite.service",
	} {
		if got := shortCgroup(path); got != want {
			t.Errorf("shortCgroup(%q) = %q, want %q", path, got, want)
		}
	}
}
