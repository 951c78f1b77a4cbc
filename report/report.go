// Package report renders a run's record (package record, results.json)
// into its run folder: report.md with the seed's table per VM size,
// results.csv with one tidy row per node and phase, and the charts; and it
// compares and gates runs. It stores nothing of its own: everything it
// writes can be rendered again from the record.
package report

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// File names in a run folder.
const (
	ReportFile = "report.md"
	CSVFile    = "results.csv"
	ChartFile  = "chart.svg"
)

// Render (re)writes report.md, results.csv and chart.svg of a run folder
// from run, leaving results.json alone; `footprint report` calls it with
// what Read returns. It writes every file it can and returns every error.
func Render(dir string, run record.Run) error {
	run = record.Normalize(run)
	var errs []error
	if err := record.WriteFile(filepath.Join(dir, ReportFile), []byte(Markdown(run))); err != nil {
		errs = append(errs, err)
	}
	if data, err := CSV(run); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", CSVFile, err))
	} else if err := record.WriteFile(filepath.Join(dir, CSVFile), data); err != nil {
		errs = append(errs, err)
	}
	if data, err := Chart(run); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", ChartFile, err))
	} else if err := record.WriteFile(filepath.Join(dir, ChartFile), data); err != nil {
		errs = append(errs, err)
	}
	if data, err := ExplainedChart(run); err != nil {
		errs = append(errs, err)
	} else if data != nil {
		if err := record.WriteFile(filepath.Join(dir, ExplainedChartFile), data); err != nil {
			errs = append(errs, err)
		}
	}
	if err := renderSearch(dir, run); err != nil {
		errs = append(errs, err)
	}
	for _, r := range run.Nodes {
		if r.Timeline == nil {
			continue
		}
		if data, err := TimelineChart(r); err != nil {
			errs = append(errs, err)
		} else if err := record.WriteFile(filepath.Join(dir, r.Node+TimelineSuffix), data); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Markdown renders the report: the seed's table for each VM size, the
// smallest size at which each API survived the workload when the run sweeps
// sizes, then where the memory is, timings and problems. Its labels name
// the workload the run's record says ran.
func Markdown(run record.Run) string {
	run = record.Normalize(run)
	work := workloadName(run)
	groups := Groups(run)
	sizes := Sizes(groups)
	// Per-node tables follow the groups: by size, system, then repeat.
	var nodes []results.Result
	for _, g := range groups {
		nodes = append(nodes, g.Nodes...)
	}
	repeated := false
	for _, g := range groups {
		repeated = repeated || len(g.Nodes) > 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# footprint run %s\n\n", run.ID)
	fmt.Fprintf(&b, "Stack `%s`, started %s.", run.Stack, run.StartedAt.UTC().Format("2006-01-02 15:04 MST"))
	if m := firstMachine(run.Nodes); m != nil {
		disk := ""
		if m.DiskGiB > 0 {
			disk = fmt.Sprintf(", %d GiB disk", m.DiskGiB)
		}
		fmt.Fprintf(&b, " Each node: %d vCPU, %s MiB%s, %s on %s; image `%s` (%s).",
			m.VCPUs, sizeList(sizes), disk, m.Hypervisor, orDash(Where(m)), m.Image, imageID(m))
	}
	if n := maxRepeats(groups); n > 1 {
		fmt.Fprintf(&b, " Each system measured %d times per size.", n)
	}
	b.WriteString("\n\n")
	b.WriteString("![" + barTitle(work) + "](" + ChartFile + ")\n")
	writeSearch(&b, run, work)
	for _, size := range sizes {
		if size > 0 {
			fmt.Fprintf(&b, "\n## %d MiB VM\n\n", size)
		} else {
			b.WriteString("\n## VM size unknown\n\n")
		}
		var here []Group
		withSeed := false
		for _, g := range groups {
			if g.MemoryMiB == size {
				here = append(here, g)
				_, ok := SeedOf(g.Profile, g.MemoryMiB)
				withSeed = withSeed || ok
			}
		}
		writeSizeTable(&b, here, work, withSeed, repeated)
		if withSeed {
			b.WriteString("\n" + seedNote)
		}
		writeNotes(&b, here)
	}
	b.WriteString("\nUsed is MemTotal − MemAvailable, the median of the samples taken after the settle time " +
		"(min–max shown when they differ by 1 MiB or more); `free`'s own \"used\" column is shown beside it " +
		"because it is what a reader of `free -m` sees.")
	if repeated {
		b.WriteString(" With several repeats, a figure is the median of the repeats' medians with their min–max, " +
			"and \"[2 of 3]\" says how many repeats had samples.")
	}
	b.WriteString(" OOM kills: processes the kernel killed for lack of memory since boot, as the agent counted them " +
		"in the kernel log at its last breakdown")
	if repeated {
		b.WriteString(", summed over repeats")
	}
	b.WriteString(". OS: " + osList(run.Nodes) + ".\n")
	writeVariants(&b, groups, work)
	if len(sizes) > 1 {
		writeSurviving(&b, groups, sizes, work)
	}
	if repeated {
		writeRepeats(&b, groups, work)
	}
	writeBreakdowns(&b, nodes)
	writeExplained(&b, nodes)
	writePCP(&b, nodes)
	writeHostView(&b, nodes)
	writeTimelines(&b, nodes)
	writeSoaks(&b, nodes, nodeSizes(run))
	b.WriteString("\n## Timings (seconds)\n\n| System | Cloud-init done (uptime) | Install | Ready | Workload ready | Result at (uptime) | Collection |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range nodes {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Node,
			phaseEnd(r, results.PhaseBoot), phaseDur(r, results.PhaseInstall), phaseDur(r, results.PhaseReady),
			phaseDur(r, results.PhaseWorkloadReady), lastPhaseEnd(r), collectSecs(r))
	}
	if run.Timings.UpSeconds > 0 || run.Timings.DestroySeconds > 0 {
		fmt.Fprintf(&b, "\nHost: up %.1f s, destroy %.1f s.\n", run.Timings.UpSeconds, run.Timings.DestroySeconds)
	}
	var problems []string
	for _, r := range nodes {
		if r.Status != results.StatusOK {
			msg := r.Detail
			if r.Collection != nil && r.Collection.Error != "" {
				msg = strings.TrimSpace(msg + " " + r.Collection.Error)
			}
			if _, sampled := r.Summarize(results.PhaseIdle); !sampled {
				if up, used, ok := r.LastReading(); ok {
					msg += fmt.Sprintf("; its last memory reading: used %.1f MiB at %.0f s of uptime", results.MiB(used), up)
				}
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
	for _, l := range run.Lost {
		problems = append(problems, fmt.Sprintf("- host %s lost in wave %d (%s): %d of the stack's resources stayed on it; `--resume` removes them once it answers",
			l.Host, l.Wave, l.Error, len(l.Left)))
	}
	if len(run.NotRun) > 0 {
		problems = append(problems, fmt.Sprintf("- not run: %s (`footprint run --stack %s --resume runs/%s` runs them)",
			strings.Join(run.NotRun, ", "), run.Stack, run.ID))
	}
	if len(problems) > 0 {
		b.WriteString("\n## Problems\n\n" + strings.Join(problems, "\n") + "\n")
	}
	writeWaves(&b, run)
	return b.String()
}

// writeWaves is the table of the waves the run was planned in, where it
// had more than one: which nodes ran together, on which host.
func writeWaves(b *strings.Builder, run record.Run) {
	type key struct {
		wave int
		host string
	}
	byWave := map[key][]string{}
	var keys []key
	for _, r := range run.Nodes {
		if r.Machine == nil || r.Machine.Wave == 0 {
			continue
		}
		k := key{r.Machine.Wave, r.Machine.Host}
		if _, ok := byWave[k]; !ok {
			keys = append(keys, k)
		}
		byWave[k] = append(byWave[k], r.Node)
	}
	if len(keys) < 2 {
		return
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].wave != keys[j].wave {
			return keys[i].wave < keys[j].wave
		}
		return keys[i].host < keys[j].host
	})
	b.WriteString("\n## Waves\n\nThe machines did not all fit the hosts at once: each wave ran, was recorded and was destroyed before the next.\n\n| Wave | Host | Nodes |\n|---:|---|---|\n")
	for _, k := range keys {
		fmt.Fprintf(b, "| %d | %s | %s |\n", k.wave, orDash(k.host), strings.Join(byWave[k], ", "))
	}
}

// writeSizeTable is the seed's table for one VM size: per system, used
// idle, used with the workload, the API verdict and OOM kills, with the
// seed's own figures beside them where it has some. The seed's columns say
// MySQL whatever this run's workload: the seed ran MySQL.
func writeSizeTable(b *strings.Builder, groups []Group, work string, withSeed, repeated bool) {
	type column struct{ title, align string }
	cols := []column{{"System", "---"}, {"Version", "---"}, {"Used idle (MiB)", "---:"}}
	if withSeed {
		cols = append(cols, column{"Seed idle (MiB)¹", "---:"})
	}
	cols = append(cols, column{"Used with " + work + " (MiB)", "---:"})
	if withSeed {
		cols = append(cols, column{"Seed with MySQL (MiB)¹", "---:"})
	}
	cols = append(cols, column{"MemTotal (MiB)", "---:"}, column{"API after " + work, "---"})
	if withSeed {
		cols = append(cols, column{"Seed API after MySQL¹", "---"})
	}
	cols = append(cols, column{"OOM kills", "---:"}, column{"free's used idle (MiB)", "---:"}, column{"Status", "---"})
	if repeated {
		cols = append(cols, column{"Repeats", "---:"})
	}
	var title, align []string
	for _, c := range cols {
		title = append(title, c.title)
		align = append(align, c.align)
	}
	b.WriteString("| " + strings.Join(title, " | ") + " |\n|" + strings.Join(align, "|") + "|\n")
	for _, g := range groups {
		total, freeUsed, oom := "–", "–", "–"
		if t := g.MemTotal(); t > 0 {
			total = fmt.Sprintf("%.0f", t)
		}
		if f, ok := g.FreeUsed(results.PhaseIdle); ok {
			freeUsed = fmt.Sprintf("%.0f", f)
		}
		if n, ok := g.OOMKills(); ok {
			oom = fmt.Sprint(n)
		}
		seed, hasSeed := SeedOf(g.Profile, g.MemoryMiB)
		seedCell := func(v string) string {
			if !hasSeed {
				return "–"
			}
			return v
		}
		cells := []string{systemCell(g), orDash(strings.Join(g.Versions(), "; ")), statCell(g, results.PhaseIdle)}
		if withSeed {
			cells = append(cells, seedCell(fmt.Sprint(seed.IdleMiB)))
		}
		cells = append(cells, statCell(g, results.PhaseWorkload))
		if withSeed {
			cells = append(cells, seedCell(seedMiB(seed.WithMySQLMiB)))
		}
		cells = append(cells, total, groupAPICell(g))
		if withSeed {
			cells = append(cells, seedCell(seedAPI(seed)))
		}
		cells = append(cells, oom, freeUsed, g.Status())
		if repeated {
			cells = append(cells, fmt.Sprint(len(g.Nodes)))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// systemCell names a group's system; a variant says, beside its figures,
// which profile it is and which options it chose.
func systemCell(g Group) string {
	for _, r := range g.Nodes {
		if r.Variant != nil {
			return fmt.Sprintf("%s (%s with %s)", g.Profile, r.Profile, strings.Join(r.Variant.OptionNames(), ", "))
		}
	}
	return g.Profile
}

func seedMiB(v int) string {
	if v <= 0 {
		return "–"
	}
	return fmt.Sprint(v)
}

func seedAPI(f SeedFigure) string {
	if f.APIStopped {
		return "stopped answering"
	}
	return "–"
}

// writeSurviving names, per profile with an API, the smallest VM size at
// which the API stayed responsive with the workload on every repeat.
func writeSurviving(b *strings.Builder, groups []Group, sizes []int, work string) {
	surv := SmallestSurviving(groups)
	profiles := Profiles(groups)
	b.WriteString("\n## Smallest VM whose API survived " + work + "\n\n")
	for _, p := range profiles {
		size, probed := surv[p]
		switch {
		case !probed:
			fmt.Fprintf(b, "- %s: – (no API probed)\n", p)
		case size == 0:
			fmt.Fprintf(b, "- %s: none (of %s MiB)\n", p, sizeList(sizes))
		default:
			fmt.Fprintf(b, "- %s: %d MiB\n", p, size)
		}
	}
	b.WriteString("\nSurvived: the API verdict was responsive on every repeat at that size.\n")
}

// writeRepeats lists each node's own figures when systems were repeated.
func writeRepeats(b *strings.Builder, groups []Group, work string) {
	b.WriteString("\n## Each repeat\n\n| Node | VM (MiB) | Repeat | Used idle (MiB) | Used with " + work + " (MiB) | API after " + work +
		" | OOM kills | Status |\n|---|---:|---:|---:|---:|---|---:|---|\n")
	for _, g := range groups {
		for _, r := range g.Nodes {
			oom := "–"
			if n, ok := oomKills(r); ok {
				oom = fmt.Sprint(n)
			}
			fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", r.Node, sizeCell(g.MemoryMiB), repeatOf(r),
				usedCell(r, results.PhaseIdle), usedCell(r, results.PhaseWorkload), apiCell(r), oom, status(r))
		}
	}
}

func statCell(g Group, phase results.PhaseName) string {
	s, ok := g.Used(phase)
	if !ok {
		return "–"
	}
	out := spread(s.Median, s.Min, s.Max)
	if len(g.Nodes) > 1 && s.N < len(g.Nodes) {
		out += fmt.Sprintf(" [%d of %d]", s.N, len(g.Nodes))
	}
	return out
}

// groupAPICell is the node's own cell for a single node, otherwise a tally
// of verdicts with the median latency.
func groupAPICell(g Group) string {
	if len(g.Nodes) == 1 {
		return apiCell(g.Nodes[0])
	}
	if !g.Probed() {
		return "–"
	}
	out := tally(g.APIVerdicts(), len(g.Nodes), apiOrder)
	if ms, ok := g.APILatencyMs(); ok {
		out += fmt.Sprintf(", %.0f ms", ms)
	}
	return out
}

func maxRepeats(groups []Group) int {
	n := 0
	for _, g := range groups {
		n = max(n, len(g.Nodes))
	}
	return n
}

// sizeList writes sizes as "1024" or "512, 1024, 2048".
func sizeList(sizes []int) string {
	var parts []string
	for _, s := range sizes {
		parts = append(parts, sizeCell(s))
	}
	return orDash(strings.Join(parts, ", "))
}

func sizeCell(s int) string {
	if s <= 0 {
		return "?"
	}
	return fmt.Sprint(s)
}

// spread is a median with its min–max when they are 1 MiB or more apart.
func spread(median, lo, hi float64) string {
	if hi-lo >= 1 {
		return fmt.Sprintf("%.0f (%.0f–%.0f)", median, lo, hi)
	}
	return fmt.Sprintf("%.0f", median)
}

func usedCell(r results.Result, phase results.PhaseName) string {
	s, ok := r.Summarize(phase)
	if !ok {
		return "–"
	}
	return spread(s.UsedMiB, s.UsedMinMiB, s.UsedMaxMiB)
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
	writeAgentCost(b, nodes)
}

// writeAgentCost is the instrument's own cost, one line per node: the
// agent's cgroup at each breakdown, of it anonymous memory and page cache,
// and its processes' PSS.
func writeAgentCost(b *strings.Builder, nodes []results.Result) {
	var lines []string
	for _, r := range nodes {
		var phases []string
		for _, br := range r.Breakdowns {
			if a := br.Agent; a != nil {
				phases = append(phases, fmt.Sprintf("%s %s (anon %s, file %s; PSS %s)", br.Phase,
					mibOrDash(a.CgroupKiB), mibOrDash(a.AnonKiB), mibOrDash(a.FileKiB), mibOrDash(a.PSSKiB)))
			}
		}
		if len(phases) > 0 {
			lines = append(lines, "- "+r.Node+": "+strings.Join(phases, ", "))
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("\nThe instrument's own cost (MiB): the agent's cgroup at each breakdown, of it anonymous memory and " +
		"page cache, and its processes' PSS. The hooks that install and start the system run in units of their own " +
		"(docs/accounting.md).\n\n" + strings.Join(lines, "\n") + "\n")
}

func mibOrDash(kib *int64) string {
	if kib == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", results.MiB(*kib))
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
		cell := fmt.Sprintf("%s %.0f", p.Name, results.MiB(p.RSSKiB))
		if p.PSSKiB != nil {
			cell += fmt.Sprintf(" (PSS %.0f)", results.MiB(*p.PSSKiB))
		}
		out = append(out, cell)
	}
	return orDash(strings.Join(out, ", "))
}

// imageID is how the image is pinned: its digest, or a cloud's image id.
func imageID(m *results.Machine) string {
	if m.ImageID != "" {
		return "`" + m.ImageID + "`"
	}
	return "sha256 `" + short(m.ImageSHA256) + "`"
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
	return string(r.Status)
}

func phaseEnd(r results.Result, name results.PhaseName) string {
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

func phaseDur(r results.Result, name results.PhaseName) string {
	for _, p := range r.Phases {
		if p.Name == name {
			if p.Status != results.StatusOK {
				return string(p.Status)
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
