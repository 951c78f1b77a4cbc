package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// Comparison is two runs side by side: the same systems at the same VM
// sizes, as when comparing two versions of a distribution or two
// hypervisors. Deltas are B − A.
type Comparison struct {
	A    RunInfo      `json:"a"`
	B    RunInfo      `json:"b"`
	Rows []CompareRow `json:"rows"`
	// Gate is set when B is held to A as a baseline (Judge).
	Gate *Gate `json:"gate,omitempty"`
}

// RunInfo says what a run was.
type RunInfo struct {
	ID          string    `json:"id"`
	Stack       string    `json:"stack"`
	StartedAt   time.Time `json:"startedAt"`
	Hypervisors []string  `json:"hypervisors,omitempty"`
	// Where names the backend and, for a cloud, the region and instance type.
	Where  []string `json:"where,omitempty"`
	Images []string `json:"images,omitempty"`
	OS     []string `json:"os,omitempty"`
	// WorkloadImage is the workload's image reference as the run's record
	// keeps it; empty for records from before it did.
	WorkloadImage string `json:"workloadImage,omitempty"`
}

// CompareRow is one system at one VM size; A or B is nil when that run did
// not measure it.
type CompareRow struct {
	Profile          string   `json:"profile"`
	MemoryMiB        int      `json:"memoryMiB"`
	A                *Side    `json:"a"`
	B                *Side    `json:"b"`
	DeltaIdleMiB     *float64 `json:"deltaIdleMiB,omitempty"`
	DeltaWorkloadMiB *float64 `json:"deltaWorkloadMiB,omitempty"`
	APIChanged       bool     `json:"apiChanged"`
}

// Side is what one run measured of a system at a size.
type Side struct {
	Nodes       int      `json:"nodes"`
	Versions    []string `json:"versions,omitempty"`
	Status      string   `json:"status"`
	MemTotalMiB float64  `json:"memTotalMiB,omitempty"`
	IdleMiB     *Stat    `json:"idleMiB,omitempty"`
	WorkloadMiB *Stat    `json:"workloadMiB,omitempty"`
	// The same without the free pages on the per-CPU lists, where every
	// node counted them: what the gate judges (docs/baseline.md).
	IdleWithoutPCPMiB     *Stat                      `json:"idleWithoutPcpMiB,omitempty"`
	WorkloadWithoutPCPMiB *Stat                      `json:"workloadWithoutPcpMiB,omitempty"`
	APIVerdict            results.APIVerdict         `json:"apiVerdict,omitempty"` // APIMixed when repeats differ
	APIVerdicts           map[results.APIVerdict]int `json:"apiVerdicts,omitempty"`
}

// Compare matches two runs' systems by profile and VM size.
func Compare(a, b record.Run) Comparison {
	ga, gb := Groups(record.Normalize(a)), Groups(record.Normalize(b))
	type key struct {
		size    int
		profile string
	}
	rows := map[key]*CompareRow{}
	var keys []key
	add := func(gs []Group, isA bool) {
		for _, g := range gs {
			k := key{g.MemoryMiB, g.Profile}
			row, ok := rows[k]
			if !ok {
				row = &CompareRow{Profile: g.Profile, MemoryMiB: g.MemoryMiB}
				rows[k] = row
				keys = append(keys, k)
			}
			if isA {
				row.A = side(g)
			} else {
				row.B = side(g)
			}
		}
	}
	add(ga, true)
	add(gb, false)
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].size < keys[j].size || keys[i].size == keys[j].size && keys[i].profile < keys[j].profile
	})
	out := Comparison{A: info(a), B: info(b)}
	for _, k := range keys {
		row := rows[k]
		if row.A != nil && row.B != nil {
			row.DeltaIdleMiB = delta(row.A.IdleMiB, row.B.IdleMiB)
			row.DeltaWorkloadMiB = delta(row.A.WorkloadMiB, row.B.WorkloadMiB)
			row.APIChanged = row.A.APIVerdict != row.B.APIVerdict
		}
		out.Rows = append(out.Rows, *row)
	}
	return out
}

func side(g Group) *Side {
	s := &Side{Nodes: len(g.Nodes), Versions: g.Versions(), Status: g.Status(), MemTotalMiB: g.MemTotal(),
		APIVerdict: g.APIVerdict()}
	if st, ok := g.Used(results.PhaseIdle); ok {
		s.IdleMiB = &st
	}
	if st, ok := g.Used(results.PhaseWorkload); ok {
		s.WorkloadMiB = &st
	}
	if st, ok := g.UsedWithoutPCP(results.PhaseIdle); ok {
		s.IdleWithoutPCPMiB = &st
	}
	if st, ok := g.UsedWithoutPCP(results.PhaseWorkload); ok {
		s.WorkloadWithoutPCPMiB = &st
	}
	if g.Probed() {
		s.APIVerdicts = g.APIVerdicts()
	}
	return s
}

func delta(a, b *Stat) *float64 {
	if a == nil || b == nil {
		return nil
	}
	d := b.Median - a.Median
	return &d
}

// Where is the backend a machine ran on and, in a cloud, the instance type
// and region: "libvirt", "aws t2.micro in eu-west-1".
func Where(m *results.Machine) string {
	w := m.Backend
	if m.InstanceType != "" {
		w += " " + m.InstanceType
	}
	if m.Region != "" {
		w += " in " + m.Region
	}
	return strings.TrimSpace(w)
}

func info(run record.Run) RunInfo {
	out := RunInfo{ID: run.ID, Stack: run.Stack, StartedAt: run.StartedAt, WorkloadImage: workloadImage(run)}
	hv, img, oss, where := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range run.Nodes {
		if m := r.Machine; m != nil {
			if w := Where(m); w != "" && !where[w] {
				where[w] = true
				out.Where = append(out.Where, w)
			}
			h := m.Hypervisor
			if m.DomainType != "" && !strings.HasSuffix(h, "/"+m.DomainType) {
				h += " (" + m.DomainType + ")"
			}
			if h != "" && !hv[h] {
				hv[h] = true
				out.Hypervisors = append(out.Hypervisors, h)
			}
			if m.Image != "" {
				im := m.Image
				if m.ImageSHA256 != "" {
					im += " (sha256 " + short(m.ImageSHA256) + ")"
				}
				if m.ImageID != "" {
					im += " (" + m.ImageID + ")"
				}
				if !img[im] {
					img[im] = true
					out.Images = append(out.Images, im)
				}
			}
		}
		if r.OS.PrettyName != "" {
			o := r.OS.PrettyName
			if r.OS.Kernel != "" {
				o += ", kernel " + r.OS.Kernel
			}
			if !oss[o] {
				oss[o] = true
				out.OS = append(out.OS, o)
			}
		}
	}
	return out
}

// JSON is the comparison as indented JSON.
func (c Comparison) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// workload is how the comparison names the workload: by its name when both
// runs name the same, else generically, since its figures are of two.
func (c Comparison) workload() string {
	if a := imageName(c.A.WorkloadImage); a == imageName(c.B.WorkloadImage) {
		return a
	}
	return unknownWorkload
}

// workloadsDiffer is the line that says what each run ran when their
// workload images differ, as a comparison of two workloads is read
// otherwise than one of two systems under the same; "" when they match.
func (c Comparison) workloadsDiffer() string {
	if c.A.WorkloadImage == c.B.WorkloadImage {
		return ""
	}
	ran := func(ref string) string {
		if ref == "" {
			return "a workload its record does not name"
		}
		return ref
	}
	return fmt.Sprintf("A ran %s, B ran %s.\n", ran(c.A.WorkloadImage), ran(c.B.WorkloadImage))
}

// Markdown is the comparison as a report: what each run was, then one row
// per system and VM size.
func (c Comparison) Markdown() string {
	work := c.workload()
	var b strings.Builder
	fmt.Fprintf(&b, "# footprint compare: A %s, B %s\n\n", c.A.ID, c.B.ID)
	b.WriteString("| | A | B |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| Run | %s | %s |\n", orDash(c.A.ID), orDash(c.B.ID))
	fmt.Fprintf(&b, "| Stack | %s | %s |\n", orDash(c.A.Stack), orDash(c.B.Stack))
	fmt.Fprintf(&b, "| Started | %s | %s |\n", date(c.A.StartedAt), date(c.B.StartedAt))
	fmt.Fprintf(&b, "| Where | %s | %s |\n", list(c.A.Where), list(c.B.Where))
	fmt.Fprintf(&b, "| Hypervisor | %s | %s |\n", list(c.A.Hypervisors), list(c.B.Hypervisors))
	fmt.Fprintf(&b, "| Image | %s | %s |\n", list(c.A.Images), list(c.B.Images))
	fmt.Fprintf(&b, "| OS | %s | %s |\n", list(c.A.OS), list(c.B.OS))
	fmt.Fprintf(&b, "| Workload | %s | %s |\n", orDash(c.A.WorkloadImage), orDash(c.B.WorkloadImage))
	if line := c.workloadsDiffer(); line != "" {
		b.WriteString("\n" + line)
	}
	b.WriteString("\n| System | VM (MiB) | Version A | Version B | Used idle A | Used idle B | Δ idle | " +
		"Used with " + work + " A | Used with " + work + " B | Δ with " + work + " | API A | API B |\n" +
		"|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|\n")
	var onlyA, onlyB []string
	for _, r := range c.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Profile, sizeCell(r.MemoryMiB),
			versionCell(r.A), versionCell(r.B),
			sideStat(r.A, func(s *Side) *Stat { return s.IdleMiB }), sideStat(r.B, func(s *Side) *Stat { return s.IdleMiB }),
			deltaCell(r.DeltaIdleMiB, r.A, func(s *Side) *Stat { return s.IdleMiB }),
			sideStat(r.A, func(s *Side) *Stat { return s.WorkloadMiB }), sideStat(r.B, func(s *Side) *Stat { return s.WorkloadMiB }),
			deltaCell(r.DeltaWorkloadMiB, r.A, func(s *Side) *Stat { return s.WorkloadMiB }),
			sideAPI(r.A), sideAPI(r.B)+changed(r.APIChanged))
		name := fmt.Sprintf("%s at %s MiB", r.Profile, sizeCell(r.MemoryMiB))
		if r.B == nil {
			onlyA = append(onlyA, name)
		}
		if r.A == nil {
			onlyB = append(onlyB, name)
		}
	}
	b.WriteString("\nUsed is MemTotal − MemAvailable in MiB, the median (of the repeats' medians when repeated); " +
		"Δ is B − A. \"not run\": that run did not measure the system at that size.\n")
	if len(onlyA) > 0 {
		fmt.Fprintf(&b, "\nOnly in A: %s.\n", strings.Join(onlyA, ", "))
	}
	if len(onlyB) > 0 {
		fmt.Fprintf(&b, "\nOnly in B: %s.\n", strings.Join(onlyB, ", "))
	}
	if c.Gate != nil {
		b.WriteString(c.Gate.markdown())
	}
	return b.String()
}

func versionCell(s *Side) string {
	if s == nil {
		return "not run"
	}
	return orDash(strings.Join(s.Versions, "; "))
}

func sideStat(s *Side, pick func(*Side) *Stat) string {
	if s == nil {
		return "not run"
	}
	st := pick(s)
	if st == nil {
		return "–"
	}
	if st.Max-st.Min >= 1 {
		return fmt.Sprintf("%.0f (%.0f–%.0f)", st.Median, st.Min, st.Max)
	}
	return fmt.Sprintf("%.0f", st.Median)
}

// deltaCell is "+12 (+3%)" relative to A.
func deltaCell(d *float64, a *Side, pick func(*Side) *Stat) string {
	if d == nil {
		return "–"
	}
	out := signed(*d)
	if a != nil {
		if st := pick(a); st != nil && st.Median > 0 {
			out += fmt.Sprintf(" (%s%%)", signed(100**d/st.Median))
		}
	}
	return out
}

func signed(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	switch {
	case s == "0" || s == "-0":
		return "±0"
	case v > 0:
		return "+" + s
	default:
		return "−" + strings.TrimPrefix(s, "-")
	}
}

func sideAPI(s *Side) string {
	switch {
	case s == nil:
		return "not run"
	case s.APIVerdict == "":
		return "–"
	case s.APIVerdict == APIMixed:
		return tally(s.APIVerdicts, s.Nodes, apiOrder)
	}
	return string(s.APIVerdict)
}

func changed(c bool) string {
	if c {
		return " (changed)"
	}
	return ""
}

func date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

func list(v []string) string { return orDash(strings.Join(v, "; ")) }
