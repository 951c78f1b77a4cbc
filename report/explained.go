package report

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/footprint-dev/footprint/results"
)

// ExplainedChartFile is the run's stacked bars of where used memory goes.
const ExplainedChartFile = "explained.svg"

// PartUnexplained names, in results.csv and report.md, what no part holds.
const PartUnexplained = "unexplained"

// explainedPhase is one node's breakdown with its split of used memory.
type explainedPhase struct {
	node  results.Result
	br    results.Breakdown
	parts []results.Part // with unexplained last, when it is not zero
}

// explainedPhases are the breakdowns that explain their used memory, in
// the report's node order.
func explainedPhases(nodes []results.Result) []explainedPhase {
	var out []explainedPhase
	for _, r := range nodes {
		for _, br := range r.Breakdowns {
			if e := br.Explained; e != nil {
				parts := append([]results.Part(nil), e.Parts...)
				if e.UnexplainedKiB != 0 {
					parts = append(parts, results.Part{Name: PartUnexplained, Kind: PartUnexplained, KiB: e.UnexplainedKiB})
				}
				out = append(out, explainedPhase{node: r, br: br, parts: parts})
			}
		}
	}
	return out
}

// writeExplained is, per node and phase, the table of where the used
// memory goes, the kernel's own accounting split into parts that add up
// (docs/accounting.md), and the processes' PSS by unit and pod.
func writeExplained(b *strings.Builder, nodes []results.Result) {
	phases := explainedPhases(nodes)
	if len(phases) == 0 {
		return
	}
	b.WriteString("\n## Where the used memory goes\n\n" +
		"Used memory at each breakdown (right after the phase's samples) split the way the guest kernel computes " +
		"MemAvailable (docs/accounting.md): " +
		"the kernel's own memory, anonymous and shared memory by cgroup, the cache and the reserve MemAvailable " +
		"does not count, the free pages on the per-CPU lists. The parts add up to used; *unexplained* is what no " +
		"kernel counter holds (pages drivers allocate themselves).\n\n" +
		"![Where the used memory goes, per system and phase](" + ExplainedChartFile + ")\n")
	for _, ep := range phases {
		e := ep.br.Explained
		fmt.Fprintf(b, "\n### %s, %s: %.1f MiB used\n\n| Part | MiB | Share |\n|---|---:|---:|\n", ep.node.Node, ep.br.Phase, results.MiB(e.UsedKiB))
		for _, p := range ep.parts {
			fmt.Fprintf(b, "| %s | %.1f | %s |\n", partLabel(p, ep.br), results.MiB(p.KiB), share(p.KiB, e.UsedKiB))
		}
		if a := ep.br.Accounting; a != nil && e.FormulaAvailableKiB != a.MeminfoKiB["MemAvailable"] {
			reported := a.MeminfoKiB["MemAvailable"]
			fmt.Fprintf(b, "\nMemAvailable from the readings by 6.1's formula: %.1f MiB, reported %.1f MiB; the difference is in unexplained.\n",
				results.MiB(e.FormulaAvailableKiB), results.MiB(reported))
		}
		if pss := pssLine(ep.br, 8); pss != "" {
			b.WriteString("\nProcesses' PSS by unit and pod (MiB): " + pss + ".\n")
		}
	}
}

func share(kib, used int64) string {
	if used <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(kib)/float64(used))
}

// partLabel is a part's name for a reader: a cgroup's path with its pod
// and container IDs shortened and the name of its largest process.
func partLabel(p results.Part, br results.Breakdown) string {
	path, ok := strings.CutPrefix(p.Name, "user: ")
	if p.Kind != results.KindUser || !ok || p.Name == results.PartUserOther {
		return p.Name
	}
	path, rest := strings.CutSuffix(path, " (rest)")
	label := "user: " + shortCgroup(path)
	var listed map[string]map[string]int64
	if br.Accounting != nil {
		listed = br.Accounting.MemoryStatKiB
	}
	if name := largestOwn(path, br.ProcessesByCgroup, listed); name != "" {
		label += " — " + name
	}
	if rest {
		label += " (rest)"
	}
	return label
}

var (
	longID    = regexp.MustCompile(`^(?:(cri-containerd|docker|crio|libpod)-)?([0-9a-f]{32,})(?:\.scope)?$`)
	podCgroup = regexp.MustCompile(`^(?:kubepods-(?:[a-z]+-)?)?pod([0-9a-f_-]{8})[0-9a-f_-]*(?:\.slice)?$`)
)

// shortCgroup shortens a cgroup path's pod UIDs and container IDs and its
// kubepods slices: "kubepods/burstable/pod 6f1c2a3b/cri-containerd a1b2c3d4e5f6".
func shortCgroup(path string) string {
	c := strings.Split(path, "/")
	for i, s := range c {
		switch m := longID.FindStringSubmatch(s); {
		case m != nil:
			kind := m[1]
			if kind == "" {
				kind = "container"
			}
			c[i] = kind + " " + m[2][:12]
		case podCgroup.MatchString(s):
			c[i] = "pod " + podCgroup.FindStringSubmatch(s)[1]
		case s == "kubepods.slice":
			c[i] = "kubepods"
		case strings.HasPrefix(s, "kubepods-") && strings.HasSuffix(s, ".slice"):
			c[i] = strings.TrimSuffix(strings.TrimPrefix(s, "kubepods-"), ".slice")
		}
	}
	return strings.Join(c, "/")
}

// largestUnder is the name of the process with the largest resident set in
// a cgroup or below it.
func largestUnder(path string, groups map[string]results.ProcessGroup) string {
	name, rss := "", int64(-1)
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if g := groups[k]; (k == path || strings.HasPrefix(k, path+"/")) && g.RSSKiB > rss {
			name, rss = g.Largest, g.RSSKiB
		}
	}
	return name
}

// largestOwn is the name of the process with the largest resident set
// among those a part of listed cgroup path holds: in path, or below it but
// not in a listed cgroup below it (which has its own part).
func largestOwn(path string, groups map[string]results.ProcessGroup, listed map[string]map[string]int64) string {
	own := map[string]results.ProcessGroup{}
	for k, g := range groups {
		if nearestListed(k, listed) == path {
			own[k] = g
		}
	}
	return largestUnder(path, own)
}

// nearestListed is cgroup k itself when listed, else its nearest listed
// ancestor ("" for none).
func nearestListed(k string, listed map[string]map[string]int64) string {
	for ; k != "." && k != "/" && k != ""; k = pathDir(k) {
		if _, ok := listed[k]; ok {
			return k
		}
	}
	return ""
}

func pathDir(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[:i]
	}
	return ""
}

// pssLine lists the n units and pods whose processes have the largest PSS.
func pssLine(br results.Breakdown, n int) string {
	type kv struct {
		unit string
		kib  int64
	}
	var all []kv
	for u, v := range br.PSSByUnitKiB {
		all = append(all, kv{u, v})
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].kib > all[j].kib || all[i].kib == all[j].kib && all[i].unit < all[j].unit
	})
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		label := shortCgroup(all[i].unit)
		if name := largestUnder(all[i].unit, br.ProcessesByCgroup); name != "" {
			label += " (" + name + ")"
		}
		out = append(out, fmt.Sprintf("%s %.1f", label, results.MiB(all[i].kib)))
	}
	return strings.Join(out, ", ")
}
