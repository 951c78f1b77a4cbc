package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// CSVColumns are the columns of results.csv, in order.
var CSVColumns = []string{
	"run_id", "stack", "node", "profile", "memory_mib", "vcpus", "repeat",
	"phase", "samples", "used_mib_median", "used_mib_min", "used_mib_max",
	"mem_total_mib", "free_used_mib", "available_mib", "swap_used_mib",
	"api_verdict", "api_successes", "api_attempts", "api_latency_median_ms", "api_latency_max_ms",
	"status", "system_version", "os", "kernel", "hypervisor", "domain_type", "image", "image_sha256",
	"oom_kills", "used_mib_p95", "steady_readings", "host_rss_mib", "host_pss_mib",
	"pcp_free_mib", "used_mib_without_pcp",
	"backend", "region", "instance_type", "image_id", "wave", "host",
	"variant_of", "options", "defaults_used_mib_median", "change_vs_defaults_mib", "change_vs_defaults_pct",
	"part", "part_kind", "part_mib",
	"soak_seconds", "soak_rate_mib_per_h", "soak_rate_se_mib_per_h", "soak_rate_low95_mib_per_h", "soak_rate_high95_mib_per_h",
	"soak_growth_mib", "soak_verdict",
}

// partColumns are what a part's row (docs/accounting.md) repeats of its
// node's row: which node and phase it is, never a figure of the phase.
var partColumns = []string{"run_id", "stack", "node", "profile", "memory_mib", "vcpus", "repeat", "phase", "status",
	"system_version", "os", "kernel", "hypervisor", "domain_type", "image", "image_sha256",
	"backend", "region", "instance_type", "image_id", "wave", "host", "variant_of", "options"}

// CSV renders results.csv: one tidy row per node and phase that has
// samples, each followed by the rows of its used memory's parts (part not
// empty). A node without any sample (it failed, timed out or never
// answered) still gets one row, with an empty phase and 0 samples, so that
// no node silently drops out of an analysis. A node that soaked has a row
// of phase soak after them: its readings' used memory, growth rate and
// verdict (soakColumns). Figures are MiB with one decimal; an empty cell is
// a value that does not exist.
func CSV(run record.Run) ([]byte, error) {
	run = record.Normalize(run)
	sizes := nodeSizes(run)
	pairs := pairsByVariant(Groups(run))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(CSVColumns); err != nil {
		return nil, err
	}
	for _, r := range run.Nodes {
		phases := samplePhases(r)
		if r.Soak != nil {
			phases = append(phases, results.PhaseSoak)
		}
		if len(phases) == 0 {
			phases = []results.PhaseName{""}
		}
		for _, phase := range phases {
			row := map[string]string{
				"run_id": run.ID, "stack": run.Stack, "node": r.Node, "profile": profileOf(r),
				"memory_mib": intCell(sizes[r.Node]), "repeat": strconv.Itoa(repeatOf(r)),
				"phase": string(phase), "samples": "0", "status": status(r), "system_version": r.SystemVersion,
				"os": r.OS.PrettyName, "kernel": r.OS.Kernel,
			}
			if r.Variant != nil {
				// profile is the variant's name; these say what it is made of.
				row["variant_of"] = r.Profile
				row["options"] = strings.Join(r.Variant.OptionNames(), ";")
				if p, ok := pairs[pairKey{sizes[r.Node], profileOf(r)}]; ok && phase != "" {
					changeColumns(row, p, phase)
				}
			}
			if m := r.Machine; m != nil {
				row["vcpus"] = intCell(m.VCPUs)
				row["hypervisor"] = m.Hypervisor
				row["domain_type"] = m.DomainType
				row["image"] = m.Image
				row["image_sha256"] = m.ImageSHA256
				row["backend"] = m.Backend
				row["region"] = m.Region
				row["instance_type"] = m.InstanceType
				row["image_id"] = m.ImageID
				row["host"] = m.Host
				if m.Wave > 0 {
					row["wave"] = strconv.Itoa(m.Wave)
				}
			}
			if s, ok := r.Summarize(phase); ok && phase != "" {
				row["samples"] = strconv.Itoa(s.Samples)
				row["used_mib_median"] = mib(s.UsedMiB)
				row["used_mib_min"] = mib(s.UsedMinMiB)
				row["used_mib_max"] = mib(s.UsedMaxMiB)
				row["mem_total_mib"] = mib(s.MemTotalMiB)
				row["available_mib"] = mib(s.AvailableMiB)
				row["swap_used_mib"] = mib(s.SwapUsedMiB)
				if s.FreeUsedMiB > 0 {
					row["free_used_mib"] = mib(s.FreeUsedMiB)
				}
				if s.HasPCP {
					row["pcp_free_mib"] = mib(s.PCPFreeMiB)
					row["used_mib_without_pcp"] = mib(s.NetUsedMiB)
				}
			}
			if st, ok := r.SteadyState(phase); ok && phase != "" {
				row["used_mib_p95"] = mib(st.P95MiB)
				row["steady_readings"] = strconv.Itoa(st.Readings)
			}
			if h, ok := r.HostViewOf(phase); ok && phase != "" {
				row["host_rss_mib"] = mib(h.RSSMiB)
				row["host_pss_mib"] = mib(h.PSSMiB)
			}
			if b, ok := r.BreakdownOf(phase); ok && phase != "" {
				row["oom_kills"] = strconv.Itoa(b.OOMKills)
			} else if n, ok := oomKills(r); ok && phase == "" {
				row["oom_kills"] = strconv.Itoa(n)
			}
			if a := r.API; a != nil {
				row["api_verdict"] = string(a.Verdict)
				row["api_successes"] = strconv.Itoa(a.Successes)
				row["api_attempts"] = strconv.Itoa(len(a.Attempts))
				if med, mx, ok := a.Latency(); ok {
					row["api_latency_median_ms"] = strconv.FormatFloat(med*1000, 'f', 1, 64)
					row["api_latency_max_ms"] = strconv.FormatFloat(mx*1000, 'f', 1, 64)
				}
			}
			if phase == results.PhaseSoak {
				soakColumns(row, r)
			}
			if err := writeRow(w, row); err != nil {
				return nil, err
			}
			if err := writePartRows(w, r, phase, row); err != nil {
				return nil, err
			}
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func writeRow(w *csv.Writer, row map[string]string) error {
	rec := make([]string, len(CSVColumns))
	for i, c := range CSVColumns {
		rec[i] = row[c]
	}
	return w.Write(rec)
}

// writePartRows follows a phase's row with one row per part of its used
// memory, and one for what is unexplained: they add up to used at the
// phase's breakdown.
func writePartRows(w *csv.Writer, r results.Result, phase results.PhaseName, phaseRow map[string]string) error {
	b, ok := r.BreakdownOf(phase)
	if !ok || phase == "" || b.Explained == nil {
		return nil
	}
	parts := append(append([]results.Part(nil), b.Explained.Parts...), results.Part{Name: PartUnexplained, Kind: PartUnexplained, KiB: b.Explained.UnexplainedKiB})
	for _, p := range parts {
		row := map[string]string{"part": p.Name, "part_kind": p.Kind, "part_mib": mib(results.MiB(p.KiB))}
		for _, c := range partColumns {
			row[c] = phaseRow[c]
		}
		if err := writeRow(w, row); err != nil {
			return err
		}
	}
	return nil
}

// samplePhases are the phases a node has samples of: idle and workload
// first, any other after them by name.
func samplePhases(r results.Result) []results.PhaseName {
	seen := map[results.PhaseName]bool{}
	for _, s := range r.Samples {
		seen[s.Phase] = true
	}
	var out []results.PhaseName
	for _, p := range []results.PhaseName{results.PhaseIdle, results.PhaseWorkload} {
		if seen[p] {
			out = append(out, p)
			delete(seen, p)
		}
	}
	var rest []results.PhaseName
	for p := range seen {
		rest = append(rest, p)
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func mib(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func intCell(v int) string {
	if v <= 0 {
		return ""
	}
	return strconv.Itoa(v)
}

type pairKey struct {
	size    int
	variant string
}

func pairsByVariant(groups []Group) map[pairKey]VariantPair {
	out := map[pairKey]VariantPair{}
	for _, p := range VariantPairs(groups) {
		out[pairKey{p.MemoryMiB, p.Variant.Profile}] = p
	}
	return out
}

// changeColumns: a variant's row carries its pair's change in the phase,
// the same figures as report.md's (the groups' medians).
func changeColumns(row map[string]string, p VariantPair, phase results.PhaseName) {
	if c, ok := p.Change(phase); ok {
		row["defaults_used_mib_median"] = mib(c.BaseMiB)
		row["change_vs_defaults_mib"] = mib(c.DeltaMiB)
		row["change_vs_defaults_pct"] = strconv.FormatFloat(c.DeltaPercent, 'f', 1, 64)
	}
}
