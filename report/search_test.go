package report

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/search"
)

// searchRun is a search of five systems over 256..1024 MiB: one found, one
// passing at the minimum, one failing everywhere, one not monotone, one
// left incomplete.
func searchRun() record.Run {
	try := func(size, wave int, v search.Verdict, why string) search.Try {
		return search.Try{SizeMiB: size, Wave: wave, Verdict: v, Why: why, Nodes: []search.Node{{Node: "x", Verdict: v}}}
	}
	return record.Run{ID: "20270101T000000Z-s", Stack: "s", Search: &search.Record{MinMiB: 256, MaxMiB: 1024, ResolutionMiB: 256, Repeats: 1,
		Systems: []search.System{
			{System: "docker", Outcome: search.Found, ThresholdMiB: 512, FailsAtMiB: 256, PassesFromMiB: 512, Tried: []search.Try{
				try(768, 1, search.Pass, ""), try(512, 2, search.Pass, ""), try(256, 3, search.Fail, "docker-256m: workloadReady timeout; OOM kills: 3 (since boot, at the workload breakdown)")}},
			{System: "bare", Outcome: search.AtMinimum, ThresholdMiB: 256, PassesFromMiB: 256, Tried: []search.Try{
				try(768, 1, search.Pass, ""), try(512, 2, search.Pass, ""), try(256, 3, search.Pass, "")}},
			{System: "k3s", Outcome: search.NoneInRange, FailsAtMiB: 1024, Tried: []search.Try{
				try(768, 1, search.Fail, "k3s-768m: API unresponsive (0 of 5 probes answered)"), try(1024, 2, search.Fail, "k3s-1024m: API degraded (2 of 5 probes answered)")}},
			{System: "k0s", Outcome: search.Found, ThresholdMiB: 1024, FailsAtMiB: 768, PassesFromMiB: 1024, NonMonotone: []string{"passes at 256 MiB but fails at 768 MiB above it"},
				Tried: []search.Try{try(256, 1, search.Pass, ""), try(768, 1, search.Fail, "k0s-768m: OOM kills: 1"), try(1024, 1, search.Pass, "")}},
			{System: "microk8s", Outcome: search.Incomplete, PassesFromMiB: 768, Tried: []search.Try{
				try(768, 1, search.Pass, ""), try(512, 2, search.Undecided, "0 of 1 repeats have a finding: microk8s-512m: no result")}},
		}}}
}

// The section gives each system's answer as its headline, before the
// per-size tables, with the sizes tried in order and why each failed.
func TestSearchSection(t *testing.T) {
	md := Markdown(searchRun())
	for _, want := range []string{
		"## Smallest machine that works\n\nSearched 256–1024 MiB in steps of 256 MiB, each size once.",
		"| docker | **512 MiB** | 256 MiB | 768 pass → 512 pass → 256 fail |",
		"| bare | **256 MiB** or less (passes at the minimum; smaller sizes not tried) | – | 768 pass → 512 pass → 256 pass |",
		"| k3s | **none** within 256–1024 MiB | 1024 MiB | 768 fail → 1024 fail |",
		"| k0s | **1024 MiB** | 768 MiB | 256 pass → 768 fail → 1024 pass |",
		"| microk8s | not found yet: between 256 and 768 MiB (`--resume` goes on) | – | 768 pass → 512 undecided |",
		"![Sizes tried per system: pass and fail along the size axis](search.svg)",
		"(workloadReady ok)", "(OOM kills 0)",
		"- docker at 256 MiB (wave 3), fail: docker-256m: workloadReady timeout; OOM kills: 3",
		"- k3s at 1024 MiB (wave 2), fail: k3s-1024m: API degraded (2 of 5 probes answered)",
		"- microk8s at 512 MiB (wave 2), undecided: 0 of 1 repeats have a finding",
		"- k0s is not monotone: passes at 256 MiB but fails at 768 MiB above it",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "each of its") {
		t.Error("a search without repeats speaks of repeats")
	}
	run := searchRun()
	run.Search.Repeats = 3
	if md := Markdown(run); !strings.Contains(md, "each size 3 times") || !strings.Contains(md, "a size works only if each of its 3 repeats does") {
		t.Errorf("repeats not said:\n%s", md)
	}
	run = sweepRun()
	if md := Markdown(run); strings.Contains(md, "Smallest machine that works") {
		t.Error("a run without a search has the search's section")
	}
}

// The record is in results.json, read back whole, and the chart beside it;
// a run without a search has neither.
func TestSearchIsWrittenAndReadBack(t *testing.T) {
	dir := t.TempDir()
	run := searchRun()
	if err := writeRun(dir, run); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, record.File))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Search struct {
			Systems []struct {
				System string `json:"system"`
				Tried  []struct {
					SizeMiB int    `json:"sizeMiB"`
					Verdict string `json:"verdict"`
				} `json:"tried"`
			} `json:"systems"`
		} `json:"search"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || len(raw.Search.Systems) != 5 || raw.Search.Systems[0].Tried[2].Verdict != "fail" {
		t.Errorf("results.json search section: %v %+v", err, raw.Search)
	}
	back, err := record.Read(dir)
	if err != nil || !reflect.DeepEqual(back.Search, run.Search) {
		t.Errorf("read back %+v, %v", back.Search, err)
	}
	if _, err := os.Stat(filepath.Join(dir, SearchChartFile)); err != nil {
		t.Errorf("no chart: %v", err)
	}
	plain := t.TempDir()
	if err := writeRun(plain, sweepRun()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(plain, SearchChartFile)); !os.IsNotExist(err) {
		t.Errorf("a run without a search has %s (%v)", SearchChartFile, err)
	}
	if strings.Contains(string(mustRead(t, filepath.Join(plain, record.File))), `"search"`) {
		t.Error("results.json of a run without a search has a search section")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The chart draws a row per system with its marks and answer, reads in a
// real renderer, and needs no colour.
func TestSearchChart(t *testing.T) {
	svg, err := SearchChart(searchRun())
	if err != nil {
		t.Fatal(err)
	}
	if err := wellFormed(svg); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	s := string(svg)
	for _, want := range []string{">docker<", ">bare<", ">k3s<", ">k0s<", ">microk8s<", ">works from 512 MiB<", ">works from 256 MiB<",
		">none within range<", ">not found yet<", ">passed<", ">failed<", ">no finding<", ">VM memory (MiB)<", ">1024<"} {
		if !strings.Contains(s, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	for _, m := range strings.Split(s, "#")[1:] {
		if len(m) >= 6 && (m[0:2] != m[2:4] || m[2:4] != m[4:6]) {
			t.Errorf("chart uses colour #%s", m[:6])
		}
	}
	path := filepath.Join(t.TempDir(), SearchChartFile)
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Fatal("rsvg-convert is not installed (Debian package librsvg2-bin): run `make tools`")
	}
	if out, err := exec.Command(rsvg, "--background-color=white", "-o", path+".png", path).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v\n%s", err, out)
	}
	if keep := os.Getenv("FOOTPRINT_CHART_DIR"); keep != "" {
		_ = os.WriteFile(filepath.Join(keep, SearchChartFile), svg, 0o644)
	}
}
