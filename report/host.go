package report

import (
	"fmt"
	"strings"

	"github.com/footprint-dev/footprint/results"
)

// writeHostView sets the host's view beside the guest's for every node the
// backend could see: per measured phase, the guest's used and the QEMU
// process's RSS and PSS (medians of the samples), and the balloon's size.
func writeHostView(b *strings.Builder, nodes []results.Result) {
	any := false
	for _, r := range nodes {
		any = any || len(r.HostView) > 0
	}
	if !any {
		return
	}
	b.WriteString("\n## Guest and host (MiB)\n\n" +
		"What the guest uses against what its QEMU process holds on the host: the host keeps every page " +
		"the guest has touched and not given back, so the two differ by design.\n\n" +
		"| System | Phase | Guest used | QEMU RSS | QEMU PSS | Balloon (actual) | Host samples |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, r := range nodes {
		for _, phase := range hostPhases(r) {
			h, _ := r.HostViewOf(phase)
			fmt.Fprintf(b, "| %s | %s | %s | %.0f | %.0f | %s | %d |\n", r.Node, phase, usedCell(r, phase),
				h.RSSMiB, h.PSSMiB, balloonCell(r, phase), h.Samples)
		}
	}
}

// hostPhases are the phases of r's host samples, in the order first seen.
func hostPhases(r results.Result) []results.PhaseName {
	var out []results.PhaseName
	seen := map[results.PhaseName]bool{}
	for _, h := range r.HostView {
		if !seen[h.Phase] {
			seen[h.Phase] = true
			out = append(out, h.Phase)
		}
	}
	return out
}

// balloonCell is the balloon's size at the phase's last host sample.
func balloonCell(r results.Result, phase results.PhaseName) string {
	cell := "–"
	for _, h := range r.HostView {
		if v, ok := h.BalloonKiB["actual"]; ok && h.Phase == phase {
			cell = fmt.Sprintf("%.0f", results.MiB(v))
		}
	}
	return cell
}
