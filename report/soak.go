package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/results"
)

// writeSoaks is the long runs' section: per soaked node (system, size), the
// soak's length, the growth rate with its standard error and 95 % interval,
// the fitted growth over the soak and the verdict, and the rule.
func writeSoaks(b *strings.Builder, nodes []results.Result, sizes map[string]int) {
	var rows []string
	for _, r := range nodes {
		s := r.Soak
		if s == nil {
			continue
		}
		row := fmt.Sprintf("| %s | %s | %s | %d", r.Node, sizeCell(sizes[r.Node]), soakLength(*s), len(s.Points))
		if g := r.SoakGrowth; g != nil {
			row += fmt.Sprintf(" | %.1f ± %.1f | %.1f – %.1f | %.1f | %s | **%s** |", g.RateMiBPerHour, g.StdErrMiBPerHour,
				g.Low95MiBPerHour, g.High95MiBPerHour, g.GrowthMiB, usedOf(*g), g.Verdict)
		} else {
			row += " | – | – | – | – | – (too few readings) |"
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## Long runs (soak)\n\nAfter its last measured phase each node's agent kept reading used memory " +
		"(phase `soak`); the rate is the least-squares slope against time, ± its standard error, with its 95 % interval. " +
		"Verdict: " + results.GrowingRule + ". It is that rule's verdict, not a proof.\n\n" +
		"| System | VM (MiB) | Soak | Readings | Rate (MiB/h) | 95 % interval (MiB/h) | Growth over the soak (MiB) | Of | Verdict |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---|---|\n" + strings.Join(rows, "\n") + "\n")
}

// usedOf says what the fit is of.
func usedOf(g results.Growth) string {
	if g.NetOfPCP {
		return "used without per-CPU free lists"
	}
	return "used"
}

// soakLength is the soak's setting, as a stack writes it.
func soakLength(s results.Soak) string {
	d := (time.Duration(s.DurationSeconds) * time.Second).String()
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return d
}

// soakColumns fill the soak's row of results.csv: its readings' used
// memory (median, min–max; without the per-CPU lists where each counted
// them), its length, the fit and the verdict.
func soakColumns(row map[string]string, r results.Result) {
	s := r.Soak
	if s == nil {
		return
	}
	var used, pcp, net []float64
	for _, p := range s.Points {
		if len(p) < 2 {
			continue
		}
		used = append(used, p[1])
		if len(p) >= 3 {
			pcp = append(pcp, p[2])
			net = append(net, p[1]-p[2])
		}
	}
	row["samples"] = strconv.Itoa(len(used))
	row["soak_seconds"] = strconv.Itoa(s.DurationSeconds)
	if len(used) > 0 {
		sort.Float64s(used)
		row["used_mib_median"] = mib(medianF(used) / 1024)
		row["used_mib_min"] = mib(used[0] / 1024)
		row["used_mib_max"] = mib(used[len(used)-1] / 1024)
	}
	if len(pcp) == len(used) && len(pcp) > 0 {
		row["pcp_free_mib"] = mib(medianF(pcp) / 1024)
		row["used_mib_without_pcp"] = mib(medianF(net) / 1024)
	}
	if g := r.SoakGrowth; g != nil {
		row["soak_rate_mib_per_h"] = strconv.FormatFloat(g.RateMiBPerHour, 'f', 2, 64)
		row["soak_rate_se_mib_per_h"] = strconv.FormatFloat(g.StdErrMiBPerHour, 'f', 2, 64)
		row["soak_rate_low95_mib_per_h"] = strconv.FormatFloat(g.Low95MiBPerHour, 'f', 2, 64)
		row["soak_rate_high95_mib_per_h"] = strconv.FormatFloat(g.High95MiBPerHour, 'f', 2, 64)
		row["soak_growth_mib"] = mib(g.GrowthMiB)
		row["soak_verdict"] = string(g.Verdict)
	}
}
