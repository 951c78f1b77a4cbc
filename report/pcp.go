package report

import (
	"fmt"
	"strings"

	"github.com/footprint-dev/footprint/results"
)

// writePCP gives, for every node whose agent counted them, the free memory
// on the kernel's per-CPU page lists and used without it: the ~45 MiB that
// comes and goes between boots (docs/baseline.md), and the state each
// figure comes from.
func writePCP(b *strings.Builder, nodes []results.Result) {
	var rows []string
	for _, r := range nodes {
		for _, phase := range samplePhases(r) {
			s, ok := r.Summarize(phase)
			if !ok || !s.HasPCP {
				continue
			}
			state := "lists near empty"
			if s.PCPFreeMiB > results.PCPFullMiB {
				state = "lists full"
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %.0f | %.0f | %.0f | %s |", r.Node, phase, s.UsedMiB, s.PCPFreeMiB, s.NetUsedMiB, state))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## Free memory on the per-CPU page lists (MiB)\n\n" +
		"MemAvailable leaves out the free pages the kernel keeps on its per-CPU lists; on a small guest with " +
		"transparent huge pages a list may hold ~50 MiB, full or nearly empty by chance (docs/baseline.md). " +
		"Used is the seed's figure; *without the lists* is the one that repeats between boots.\n\n" +
		"| System | Phase | Used | On per-CPU lists | Used without the lists | State |\n|---|---|---:|---:|---:|---|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n")
}
