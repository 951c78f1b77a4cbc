package results

// The accounting that adds up (docs/accounting.md): used memory, MemTotal −
// MemAvailable, split into parts whose sum is the used figure, worked out
// from how the guest kernel computes MemAvailable — si_mem_available() in
// mm/page_alloc.c of Linux 6.1, the kernel of the Debian test image:
//
//	available = MemFree − totalreserve_pages
//	          + pagecache − min(pagecache/2, wmark_low)
//	          + reclaimable − min(reclaimable/2, wmark_low)
//
// with pagecache = Active(file) + Inactive(file), reclaimable =
// KReclaimable, wmark_low the zones' low watermarks summed and
// totalreserve_pages each zone's largest lowmem reserve plus its high
// watermark, capped at its managed pages (calculate_totalreserve_pages()).
// Every page of MemTotal is free (MemFree), free on a per-CPU list, on an
// LRU list, slab, or one of the kernel's own counted allocations, or none
// of those (a driver's alloc_pages): so used is the sum of the parts below
// and of that last, untracked rest, which is Unexplained.
//
// The agent records the raw readings (Accounting) and Go computes the
// parts, so that a better accounting can be applied to old runs by
// re-rendering them, and the shell that is resident while the guest is
// measured does no more than read files.

import (
	"path"
	"sort"
	"strings"
)

// Accounting is what the agent read at a breakdown, right after the
// phase's samples and at one moment: /proc/meminfo, every zone of
// /proc/zoneinfo, and memory.stat of the cgroups it lists.
type Accounting struct {
	PageKiB    int64            `json:"pageKiB"`
	MeminfoKiB map[string]int64 `json:"meminfoKiB"`
	Zones      []Zone           `json:"zones"`
	// PercpuEmbeddedPages is the first per-CPU chunk's size per CPU, in
	// pages, from the boot log ("percpu: Embedded 61 pages/cpu"): Percpu
	// counts it, but it was taken before the page allocator started, so it
	// is not part of MemTotal. Nil when the boot log no longer had the line.
	PercpuEmbeddedPages *int64 `json:"percpuEmbeddedPages,omitempty"`
	// MemoryStatKiB is, by cgroup path (as in CgroupsKiB), the fields of
	// its memory.stat the accounting reads: anon, shmem, file, active_anon,
	// inactive_anon, unevictable. They include the cgroup's descendants.
	MemoryStatKiB map[string]map[string]int64 `json:"memoryStatKiB,omitempty"`
}

// Zone is one zone of /proc/zoneinfo, in pages, under the kernel's names.
// Low and High include Boost, as the kernel prints them.
type Zone struct {
	Node       int     `json:"node"`
	Zone       string  `json:"zone"`
	Free       int64   `json:"free"`
	Boost      int64   `json:"boost"`
	Min        int64   `json:"min"`
	Low        int64   `json:"low"`
	High       int64   `json:"high"`
	Spanned    int64   `json:"spanned"`
	Present    int64   `json:"present"`
	Managed    int64   `json:"managed"`
	Protection []int64 `json:"protection"` // lowmem_reserve[], one per zone of the node
	PCPCount   int64   `json:"pcpCount"`   // free pages on its per-CPU lists, all CPUs
	CPUs       int     `json:"cpus"`       // CPUs with a per-CPU list in it
}

// Explained is used memory at a breakdown split into parts: the parts and
// UnexplainedKiB add up to UsedKiB exactly.
type Explained struct {
	UsedKiB        int64  `json:"usedKiB"` // MemTotal − MemAvailable of the breakdown's reading
	Parts          []Part `json:"parts"`
	UnexplainedKiB int64  `json:"unexplainedKiB"` // negative when the parts count more than used
	// FormulaAvailableKiB is MemAvailable as si_mem_available() computes it
	// from the readings; when it differs from the reported MemAvailable the
	// difference is in UnexplainedKiB (another kernel's formula, say).
	FormulaAvailableKiB int64 `json:"formulaAvailableKiB"`
}

// Part is one share of used memory; Kind groups the parts.
type Part struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	KiB  int64  `json:"kiB"`
}

// Kinds of parts.
const (
	KindKernel  = "kernel"  // the kernel's own memory
	KindUser    = "user"    // anonymous and shared memory, by cgroup
	KindCache   = "cache"   // cache that MemAvailable does not count as available
	KindReserve = "reserve" // the watermark reserve
	KindFree    = "free"    // free pages on the per-CPU lists
)

// Names of the parts that are not cgroups.
const (
	PartSlab        = "kernel: unreclaimable slab"
	PartPageTables  = "kernel: page tables"
	PartStacks      = "kernel: stacks"
	PartPercpu      = "kernel: per-CPU allocations"
	PartVmalloc     = "kernel: vmalloc (beside stacks)"
	PartHugetlb     = "kernel: hugetlb pages"
	PartZswap       = "kernel: zswap pool"
	PartUserOther   = "user: outside the listed cgroups"
	PartCacheKept   = "cache: page cache not counted available"
	PartReclaimKept = "cache: reclaimable kernel memory not counted available"
	PartReserve     = "reserve: watermark reserve"
	PartPCP         = "free: per-CPU free lists"
)

// Explain splits the used memory of one reading; ok is false when the
// reading lacks what the split needs (meminfo's totals or the zones).
func Explain(a Accounting) (Explained, bool) {
	m := a.MeminfoKiB
	_, hasTotal := m["MemTotal"]
	_, hasAvail := m["MemAvailable"]
	if !hasTotal || !hasAvail || len(a.Zones) == 0 || a.PageKiB <= 0 {
		return Explained{}, false
	}
	page := a.PageKiB
	half := func(kib int64) int64 { return kib / page / 2 * page } // in pages, as the kernel divides
	wmarkLow, reserve, pcp := zoneTotals(a.Zones)
	wmarkLow, reserve, pcp = wmarkLow*page, reserve*page, pcp*page

	pagecache := m["Active(file)"] + m["Inactive(file)"]
	reclaimable, ok := m["KReclaimable"]
	if !ok {
		reclaimable = m["SReclaimable"] // kernels before 4.20
	}
	cacheKept := min(half(pagecache), wmarkLow)
	reclaimKept := min(half(reclaimable), wmarkLow)
	formula := max(0, m["MemFree"]-reserve+pagecache-cacheKept+reclaimable-reclaimKept)

	var parts []Part
	add := func(name, kind string, kib int64) {
		if kib > 0 {
			parts = append(parts, Part{Name: name, Kind: kind, KiB: kib})
		}
	}
	add(PartSlab, KindKernel, m["SUnreclaim"])
	add(PartPageTables, KindKernel, m["PageTables"]+m["SecPageTables"])
	add(PartStacks, KindKernel, m["KernelStack"])
	add(PartPercpu, KindKernel, m["Percpu"]-firstChunkKiB(a))
	// Stacks are vmalloc'd (CONFIG_VMAP_STACK): VmallocUsed counts them too.
	add(PartVmalloc, KindKernel, m["VmallocUsed"]-m["KernelStack"])
	add(PartHugetlb, KindKernel, m["Hugetlb"])
	add(PartZswap, KindKernel, m["Zswap"])
	parts = append(parts, userParts(m["Active(anon)"]+m["Inactive(anon)"]+m["Unevictable"], a.MemoryStatKiB)...)
	add(PartCacheKept, KindCache, cacheKept)
	add(PartReclaimKept, KindCache, reclaimKept)
	add(PartReserve, KindReserve, reserve)
	add(PartPCP, KindFree, pcp)

	e := Explained{UsedKiB: m["MemTotal"] - m["MemAvailable"], Parts: parts, FormulaAvailableKiB: formula}
	e.UnexplainedKiB = e.UsedKiB
	for _, p := range parts {
		e.UnexplainedKiB -= p.KiB
	}
	return e, true
}

// zoneTotals are, in pages, the zones' low watermarks summed (wmark_low),
// totalreserve_pages, and the free pages on the per-CPU lists.
// calculate_totalreserve_pages() takes each zone's largest lowmem_reserve
// towards the zones above it plus its high watermark, at most its managed
// pages; it ran when the watermarks were set, without a boost.
func zoneTotals(zones []Zone) (wmarkLow, reserve, pcp int64) {
	index := map[int]int{} // a zone's index within its node
	for _, z := range zones {
		i := index[z.Node]
		index[z.Node]++
		wmarkLow += z.Low
		pcp += z.PCPCount
		var most int64
		for j := i; j < len(z.Protection); j++ {
			most = max(most, z.Protection[j])
		}
		reserve += min(most+z.High-z.Boost, z.Managed)
	}
	return wmarkLow, reserve, pcp
}

// firstChunkKiB is the part of Percpu outside MemTotal: the first chunk,
// one unit per CPU (footprint's guests have as many possible CPUs as
// online ones).
func firstChunkKiB(a Accounting) int64 {
	if a.PercpuEmbeddedPages == nil {
		return 0
	}
	cpus := 1
	for _, z := range a.Zones {
		cpus = max(cpus, z.CPUs)
	}
	return *a.PercpuEmbeddedPages * a.PageKiB * int64(cpus)
}

// userParts splits the anonymous and shared memory, total (the anon LRU
// lists and the unevictable one, which hold every anonymous, tmpfs and
// mlocked page), by cgroup: each listed cgroup gets its own pages less
// those of the listed cgroups below it, named "(rest)" when it has some;
// what no listed cgroup holds is PartUserOther (the root cgroup, cgroups
// under 1 MiB deeper down). memory.stat is hierarchical, so the split adds
// up to total; when the cgroups, read a moment later, count more than
// total, the excess shows as negative Unexplained.
func userParts(total int64, stats map[string]map[string]int64) []Part {
	own := map[string]int64{}
	for p, s := range stats {
		own[p] = s["active_anon"] + s["inactive_anon"] + s["unevictable"]
	}
	rest := map[string]int64{}
	parent := map[string]bool{}
	for p, v := range own {
		rest[p] += v
		if q, ok := listedParent(p, own); ok {
			rest[q] -= v
			parent[q] = true
		}
	}
	var parts []Part
	outside := total
	for p, v := range rest {
		if v <= 0 {
			continue
		}
		name := "user: " + p
		if parent[p] {
			name += " (rest)"
		}
		parts = append(parts, Part{Name: name, Kind: KindUser, KiB: v})
		outside -= v
	}
	sort.Slice(parts, func(i, j int) bool {
		return parts[i].KiB > parts[j].KiB || parts[i].KiB == parts[j].KiB && parts[i].Name < parts[j].Name
	})
	if outside > 0 {
		parts = append(parts, Part{Name: PartUserOther, Kind: KindUser, KiB: outside})
	}
	return parts
}

// listedParent is p's nearest ancestor among the listed cgroups.
func listedParent(p string, listed map[string]int64) (string, bool) {
	for q := path.Dir(p); q != "." && q != "/"; q = path.Dir(q) {
		if _, ok := listed[q]; ok {
			return q, true
		}
	}
	return "", false
}

// ProcessGroup is what the processes of one cgroup hold: their
// proportional and resident set sizes summed, how many there are, and the
// name of the one with the largest resident set.
type ProcessGroup struct {
	PSSKiB    *int64 `json:"pssKiB"` // nil when no smaps_rollup could be read
	RSSKiB    int64  `json:"rssKiB"`
	Processes int    `json:"processes"`
	Largest   string `json:"largest"`
}

// UnitOf is the unit or pod a cgroup path belongs to: the pod's cgroup for
// anything under kubepods, the slice's child for a slice's descendants
// (system.slice/containerd.service, system.slice/docker-ID.scope), the
// top-level cgroup otherwise, "/" for the root.
func UnitOf(cgroup string) string {
	c := strings.Split(strings.Trim(cgroup, "/"), "/")
	if c[0] == "" {
		return "/"
	}
	if strings.HasPrefix(c[0], "kubepods") {
		for i := 1; i < len(c); i++ {
			if isPodCgroup(c[i]) {
				return strings.Join(c[:i+1], "/")
			}
		}
		return strings.Join(c[:min(2, len(c))], "/")
	}
	if strings.HasSuffix(c[0], ".slice") && len(c) > 1 {
		return c[0] + "/" + c[1]
	}
	return c[0]
}

// isPodCgroup: a pod's cgroup, as the systemd driver names it
// (kubepods-burstable-pod<uid>.slice, kubepods-pod<uid>.slice) or cgroupfs
// (pod<uid>).
func isPodCgroup(name string) bool {
	return strings.HasPrefix(name, "pod") || strings.Contains(name, "-pod")
}

// PSSByUnit sums the processes' proportional set sizes by UnitOf their
// cgroup.
func PSSByUnit(groups map[string]ProcessGroup) map[string]int64 {
	out := map[string]int64{}
	for cg, g := range groups {
		if g.PSSKiB != nil {
			out[UnitOf(cg)] += *g.PSSKiB
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Derive fills in what Go computes from the agent's raw readings: each
// breakdown's Explained and PSSByUnitKiB, and the soak's SoakGrowth. It is called whenever results are
// read or written, so a document from an older footprint is explained by
// the current accounting. The breakdowns are copied, not changed in place.
func (r *Result) Derive() {
	r.SoakGrowth = nil
	if r.Soak != nil {
		if g, ok := GrowthOf(*r.Soak); ok {
			r.SoakGrowth = &g
		}
	}
	if len(r.Breakdowns) == 0 {
		return
	}
	bs := append([]Breakdown(nil), r.Breakdowns...)
	for i := range bs {
		bs[i].Explained = nil
		if a := bs[i].Accounting; a != nil {
			if e, ok := Explain(*a); ok {
				bs[i].Explained = &e
			}
		}
		bs[i].PSSByUnitKiB = PSSByUnit(bs[i].ProcessesByCgroup)
	}
	r.Breakdowns = bs
}
