// Package report writes what a run measured into its run folder:
// results.json with everything, and report.md with the seed's table.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/results"
)

// SchemaVersion of results.json.
const SchemaVersion = 1

// Run is one run's record.
type Run struct {
	SchemaVersion int              `json:"schemaVersion"`
	ID            string           `json:"id"`
	Stack         string           `json:"stack"`
	StartedAt     time.Time        `json:"startedAt"`
	FinishedAt    time.Time        `json:"finishedAt,omitempty"`
	Experiment    map[string]any   `json:"experiment,omitempty"`
	Nodes         []results.Result `json:"nodes"`
	Timings       Timings          `json:"timings"`
	Errors        []string         `json:"errors,omitempty"`
}

// Timings are the host's view of the run, in seconds.
type Timings struct {
	UpSeconds      float64 `json:"upSeconds,omitempty"`
	DestroySeconds float64 `json:"destroySeconds,omitempty"`
}

// SeedUsedMB are the figures of the 2022 experiment footprint reproduces
// (Ubuntu Minimal, 1 vCPU / 1 GB, `free -m`, used = total - available).
var SeedUsedMB = map[string]int{
	"bare": 167, "docker": 216, "k0s": 658, "k3s": 750, "microk8s": 685, "microk8s-noha": 526,
}

// File names in a run folder.
const (
	ResultsFile = "results.json"
	ReportFile  = "report.md"
)

// Write stores results.json and report.md in dir, replacing earlier copies
// atomically so that an interrupted write never loses an earlier one.
func Write(dir string, run Run) error {
	run.SchemaVersion = SchemaVersion
	sort.Slice(run.Nodes, func(i, j int) bool { return run.Nodes[i].Node < run.Nodes[j].Node })
	data, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, ResultsFile), append(data, '\n')); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, ReportFile), []byte(Markdown(run)))
}

// Read loads a run folder's results.json.
func Read(dir string) (Run, error) {
	data, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		return Run{}, err
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return Run{}, fmt.Errorf("%s: %w", filepath.Join(dir, ResultsFile), err)
	}
	return run, nil
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Markdown renders the report.
func Markdown(run Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# footprint run %s\n\n", run.ID)
	fmt.Fprintf(&b, "Stack `%s`, started %s.", run.Stack, run.StartedAt.UTC().Format("2006-01-02 15:04 MST"))
	if m := firstMachine(run.Nodes); m != nil {
		fmt.Fprintf(&b, " Each node: %d vCPU, %d MiB, %s; image `%s` (sha256 `%s`).",
			m.VCPUs, m.MemoryMiB, m.Hypervisor, m.Image, short(m.ImageSHA256))
	}
	b.WriteString("\n\n")
	b.WriteString("| System | Version | Used idle (MiB) | Used with MySQL (MiB) | MemTotal (MiB) | API after MySQL | free's used idle (MiB) | Seed 2022 idle (MB) | Status |\n")
	b.WriteString("|---|---|---:|---:|---:|---|---:|---:|---|\n")
	for _, r := range run.Nodes {
		idle, total, freeUsed := usedCell(r, "idle"), "–", "–"
		if s, ok := r.Summarize("idle"); ok {
			total = fmt.Sprintf("%.0f", s.MemTotalMiB)
			if s.FreeUsedMiB > 0 {
				freeUsed = fmt.Sprintf("%.0f", s.FreeUsedMiB)
			}
		}
		seed := "–"
		if v, ok := SeedUsedMB[r.Profile]; ok {
			seed = fmt.Sprint(v)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Node, orDash(r.SystemVersion), idle, usedCell(r, "workload"), total, apiCell(r), freeUsed, seed, status(r))
	}
	b.WriteString("\nUsed is MemTotal − MemAvailable, the median of the samples taken after the settle time " +
		"(min–max shown when they differ by 1 MiB or more); `free`'s own \"used\" column is shown beside it " +
		"because it is what a reader of `free -m` sees. OS: ")
	b.WriteString(osList(run.Nodes) + ".\n")
	writeBreakdowns(&b, run.Nodes)
	b.WriteString("\n## Timings (seconds)\n\n| System | Cloud-init done (uptime) | Install | Ready | Workload ready | Result at (uptime) | Collection |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range run.Nodes {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Node,
			phaseEnd(r, "boot"), phaseDur(r, "install"), phaseDur(r, "ready"), phaseDur(r, "workloadReady"), lastPhaseEnd(r), collectSecs(r))
	}
	if run.Timings.UpSeconds > 0 || run.Timings.DestroySeconds > 0 {
		fmt.Fprintf(&b, "\nHost: up %.1f s, destroy %.1f s.\n", run.Timings.UpSeconds, run.Timings.DestroySeconds)
	}
	var problems []string
	for _, r := range run.Nodes {
		if r.Status != results.StatusOK {
			msg := r.Detail
			if r.Collection != nil && r.Collection.Error != "" {
				msg = strings.TrimSpace(msg + " " + r.Collection.Error)
			}
			if r.Collection != nil && r.Collection.LastConsoleLine != "" {
				msg += "; last console line: " + r.Collection.LastConsoleLine
			}
			problems = append(problems, fmt.Sprintf("- %s: %s", r.Node, orDash(msg)))
		}
	}
	for _, e := range run.Errors {
		problems = append(problems, "- "+e)
	}
	if len(problems) > 0 {
		b.WriteString("\n## Problems\n\n" + strings.Join(problems, "\n") + "\n")
	}
	return b.String()
}

func usedCell(r results.Result, phase string) string {
	s, ok := r.Summarize(phase)
	if !ok {
		return "–"
	}
	out := fmt.Sprintf("%.0f", s.UsedMiB)
	if s.UsedMaxMiB-s.UsedMinMiB >= 1 {
		out += fmt.Sprintf(" (%.0f–%.0f)", s.UsedMinMiB, s.UsedMaxMiB)
	}
	return out
}

func apiCell(r results.Result) string {
	if r.API == nil {
		return "–"
	}
	out := fmt.Sprintf("%s (%d/%d)", r.API.Verdict, r.API.Successes, max(len(r.API.Attempts), r.API.Successes))
	if med, mx, ok := r.API.Latency(); ok {
		out += fmt.Sprintf(", %.0f/%.0f ms", med*1000, mx*1000)
	}
	return out
}

func osList(nodes []results.Result) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range nodes {
		if r.OS.PrettyName == "" {
			continue
		}
		k := r.OS.PrettyName + ", kernel " + r.OS.Kernel
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return "–"
	}
	return strings.Join(out, "; ")
}

// writeBreakdowns says where the memory is: the profile's units, the largest
// cgroups and processes, and OOM kills.
func writeBreakdowns(b *strings.Builder, nodes []results.Result) {
	any := false
	for _, r := range nodes {
		if len(r.Breakdowns) > 0 {
			any = true
		}
	}
	if !any {
		return
	}
	b.WriteString("\n## Where the memory is (MiB)\n\n| System | Phase | Units | Largest cgroups | Largest processes (RSS) | OOM kills |\n|---|---|---|---|---|---:|\n")
	for _, r := range nodes {
		for _, br := range r.Breakdowns {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %d |\n", r.Node, br.Phase,
				unitsCell(br), topCgroups(br, 3), topProcs(br, 3), br.OOMKills)
		}
	}
}

func unitsCell(br results.Breakdown) string {
	names := make([]string, 0, len(br.UnitsKiB))
	for n := range br.UnitsKiB {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if v := br.UnitsKiB[n]; v != nil {
			out = append(out, fmt.Sprintf("%s %.0f", n, results.MiB(*v)))
		} else {
			out = append(out, n+" –")
		}
	}
	return orDash(strings.Join(out, ", "))
}

func topCgroups(br results.Breakdown, n int) string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range br.CgroupsKiB {
		// Parents double-count their children: list leaves of system.slice and
		// the other top-level groups.
		if k == "system.slice" {
			continue
		}
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, fmt.Sprintf("%s %.0f", all[i].k, results.MiB(all[i].v)))
	}
	return orDash(strings.Join(out, ", "))
}

func topProcs(br results.Breakdown, n int) string {
	var out []string
	for i := 0; i < len(br.TopProcesses) && i < n; i++ {
		p := br.TopProcesses[i]
		out = append(out, fmt.Sprintf("%s %.0f", p.Name, results.MiB(p.RSSKiB)))
	}
	return orDash(strings.Join(out, ", "))
}

func firstMachine(rs []results.Result) *results.Machine {
	for _, r := range rs {
		if r.Machine != nil {
			return r.Machine
		}
	}
	return nil
}

func status(r results.Result) string {
	if r.Status == "" {
		return "no result"
	}
	return r.Status
}

func phaseEnd(r results.Result, name string) string {
	if v, ok := r.PhaseEnd(name); ok {
		return fmt.Sprintf("%.1f", v)
	}
	return "–"
}

func lastPhaseEnd(r results.Result) string {
	if len(r.Phases) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", r.Phases[len(r.Phases)-1].EndedAt)
}

func phaseDur(r results.Result, name string) string {
	for _, p := range r.Phases {
		if p.Name == name {
			if p.Status != results.StatusOK {
				return p.Status
			}
			return fmt.Sprintf("%.1f", p.EndedAt-p.StartedAt)
		}
	}
	return "–"
}

func collectSecs(r results.Result) string {
	if r.Collection == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", r.Collection.Seconds)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return orDash(s)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
