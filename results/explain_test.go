package results

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// loadAccounting reads a breakdown's raw readings as the agent records
// them: testdata/accounting-bare.json is a Debian 12 guest of 1 GiB with
// nothing installed (~174 MiB used), testdata/accounting-kubeadm.json one
// running kubeadm's control plane (~614 MiB); both with the zones of
// docs/baseline.md (DMA32: min 11086, low 13857, high 16628 pages).
func loadAccounting(t *testing.T, name string) Accounting {
	t.Helper()
	data, err := os.ReadFile("testdata/accounting-" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var a Accounting
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func explain(t *testing.T, a Accounting) Explained {
	t.Helper()
	e, ok := Explain(a)
	if !ok {
		t.Fatal("Explain: not ok")
	}
	sum := e.UnexplainedKiB
	for _, p := range e.Parts {
		sum += p.KiB
		if p.KiB <= 0 {
			t.Errorf("part %+v is not positive", p)
		}
	}
	if sum != e.UsedKiB || e.UsedKiB != a.MeminfoKiB["MemTotal"]-a.MeminfoKiB["MemAvailable"] {
		t.Errorf("parts and unexplained add up to %d KiB, used is %d (MemTotal − MemAvailable %d)", sum, e.UsedKiB,
			a.MeminfoKiB["MemTotal"]-a.MeminfoKiB["MemAvailable"])
	}
	return e
}

func partMap(e Explained) map[string]int64 {
	out := map[string]int64{}
	for _, p := range e.Parts {
		out[p.Name] = p.KiB
	}
	return out
}

// The bare guest: si_mem_available()'s terms from its zones (reserve
// DMA min(957+265, 3937) + DMA32 16628 = 17850 pages; wmark_low 221+13857
// = 14078 pages), the kernel's counters, the cgroups, and 3100 KiB that no
// counter holds.
func TestExplainBareAddsUp(t *testing.T) {
	a := loadAccounting(t, "bare")
	e := explain(t, a)
	want := []Part{
		{PartSlab, KindKernel, 12344},
		{PartPageTables, KindKernel, 1092},
		{PartStacks, KindKernel, 1744},
		{PartPercpu, KindKernel, 644 - 61*4},
		{PartVmalloc, KindKernel, 7312 - 1744},
		{"user: system.slice/unattended-upgrades.service", KindUser, 6400},
		{"user: system.slice/systemd-journald.service", KindUser, 3200},
		{"user: init.scope", KindUser, 2600},
		{"user: system.slice (rest)", KindUser, 1300},
		{"user: system.slice/ssh.service", KindUser, 1100},
		{"user: system.slice/footprint-agent.service", KindUser, 900},
		{PartUserOther, KindUser, 16148 - 12900 - 2600},
		{PartCacheKept, KindCache, 14078 * 4},
		{PartReclaimKept, KindCache, 16480 / 2},
		{PartReserve, KindReserve, 17850 * 4},
		{PartPCP, KindFree, 437 * 4},
	}
	if !reflect.DeepEqual(e.Parts, want) {
		t.Errorf("parts\n got %+v\nwant %+v", e.Parts, want)
	}
	if e.UnexplainedKiB != 3100 || e.UsedKiB != 178096 || e.FormulaAvailableKiB != a.MeminfoKiB["MemAvailable"] {
		t.Errorf("used %d, unexplained %d, formula's MemAvailable %d", e.UsedKiB, e.UnexplainedKiB, e.FormulaAvailableKiB)
	}
}

// kubeadm's control plane: less page cache than the low watermark's worth
// of half of it, so half of it (in whole pages: 23105 pages, 11552 kept)
// is not counted available; pods and containers each get their share.
func TestExplainKubeadmAddsUpWithinFivePercent(t *testing.T) {
	a := loadAccounting(t, "kubeadm")
	e := explain(t, a)
	got := partMap(e)
	pod := func(uid string) string {
		return "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid + ".slice"
	}
	apiserver := pod("6f1c2a3b_4d5e_4f60_8a7b_9c0d1e2f3a4b")
	for name, kib := range map[string]int64{
		PartCacheKept:   11552 * 4,
		PartReclaimKept: 7861 / 2 * 4,
		PartReserve:     71400,
		PartPCP:         1012 * 4,
		PartStacks:      7216,
		PartVmalloc:     19460 - 7216,
		PartPercpu:      1804 - 244,
		"user: " + apiserver + "/cri-containerd-a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f91.scope": 204600,
		"user: " + apiserver + " (rest)":                       400,
		"user: system.slice/kubelet.service":                   55800,
		"user: kubepods.slice/kubepods-burstable.slice (rest)": 500,
		"user: kubepods.slice (rest)":                          1000,
		"user: system.slice (rest)":                            5400,
		PartUserOther:                                          410456 - 406800,
	} {
		if got[name] != kib {
			t.Errorf("%s = %d KiB, want %d", name, got[name], kib)
		}
	}
	var user int64
	for _, p := range e.Parts {
		if p.Kind == KindUser {
			user += p.KiB
		}
	}
	if user != 160332+250124 {
		t.Errorf("user parts add up to %d, want the anon LRU lists' %d", user, 160332+250124)
	}
	if e.UnexplainedKiB != 9100 || e.FormulaAvailableKiB != 367492 || e.UnexplainedKiB*20 > e.UsedKiB {
		t.Errorf("unexplained %d of %d, formula %d", e.UnexplainedKiB, e.UsedKiB, e.FormulaAvailableKiB)
	}
}

// A boosted zone: low_wmark_pages() includes the boost (wmark_low grows),
// while totalreserve_pages was computed without it.
func TestExplainReserveIsTakenWithoutTheBoost(t *testing.T) {
	a := loadAccounting(t, "bare")
	z := &a.Zones[1]
	z.Boost, z.Low, z.High = 1000, z.Low+1000, z.High+1000
	a.MeminfoKiB["MemAvailable"] -= 4000 // 1000 more pages of cache kept
	e := explain(t, a)
	got := partMap(e)
	if got[PartReserve] != 71400 || got[PartCacheKept] != 15078*4 || e.UnexplainedKiB != 3100 {
		t.Errorf("reserve %d, cache kept %d, unexplained %d", got[PartReserve], got[PartCacheKept], e.UnexplainedKiB)
	}
}

// Each zone's reserve is its largest lowmem reserve towards the zones
// above it, capped at its managed pages.
func TestExplainReserveIsCappedAtManagedPages(t *testing.T) {
	a := loadAccounting(t, "bare")
	a.Zones[0].Protection = []int64{0, 5000, 4000, 4000, 4000}
	a.Zones[1].Protection = []int64{9999, 0, 0, 0, 0} // towards a zone below: not its reserve
	a.MeminfoKiB["MemAvailable"] -= (3937 - 1222) * 4
	e := explain(t, a)
	if got := partMap(e)[PartReserve]; got != (3937+16628)*4 || e.UnexplainedKiB != 3100 {
		t.Errorf("reserve %d KiB, unexplained %d", got, e.UnexplainedKiB)
	}
}

// Kernels before 4.20 have no KReclaimable; SReclaimable is what they use.
func TestExplainWithoutKReclaimable(t *testing.T) {
	a := loadAccounting(t, "bare")
	want := explain(t, a)
	delete(a.MeminfoKiB, "KReclaimable")
	if got := explain(t, a); !reflect.DeepEqual(got, want) {
		t.Errorf("without KReclaimable\n got %+v\nwant %+v", got, want)
	}
}

// Without the boot log's line, all of Percpu counts: 244 KiB more explained.
func TestExplainWithoutTheFirstPercpuChunk(t *testing.T) {
	a := loadAccounting(t, "bare")
	a.PercpuEmbeddedPages = nil
	e := explain(t, a)
	if got := partMap(e)[PartPercpu]; got != 644 || e.UnexplainedKiB != 3100-244 {
		t.Errorf("percpu %d, unexplained %d", got, e.UnexplainedKiB)
	}
}

// cgroups read a moment after meminfo may hold more than the LRU lists
// did: nothing is left outside them, and unexplained goes negative rather
// than the parts failing to add up.
func TestExplainCgroupsHoldingMoreThanTheLists(t *testing.T) {
	a := loadAccounting(t, "bare")
	a.MemoryStatKiB["init.scope"]["inactive_anon"] += 1000
	e := explain(t, a)
	if _, ok := partMap(e)[PartUserOther]; ok || e.UnexplainedKiB != 3100-(1000-648) {
		t.Errorf("parts %v, unexplained %d", partMap(e), e.UnexplainedKiB)
	}
}

// A formula other than 6.1's (or counters read apart) is visible: the
// reproduced MemAvailable differs from the reported one, and the difference
// is in unexplained.
func TestExplainSaysWhenTheFormulaIsNotReproduced(t *testing.T) {
	a := loadAccounting(t, "bare")
	a.MeminfoKiB["MemAvailable"] += 2048
	e := explain(t, a)
	if e.FormulaAvailableKiB != 818460 || e.UnexplainedKiB != 3100-2048 {
		t.Errorf("formula %d, unexplained %d", e.FormulaAvailableKiB, e.UnexplainedKiB)
	}
}

func TestExplainNeedsMeminfoAndZones(t *testing.T) {
	for name, change := range map[string]func(*Accounting){
		"no zones":        func(a *Accounting) { a.Zones = nil },
		"no MemAvailable": func(a *Accounting) { delete(a.MeminfoKiB, "MemAvailable") },
		"no page size":    func(a *Accounting) { a.PageKiB = 0 },
	} {
		a := loadAccounting(t, "bare")
		change(&a)
		if _, ok := Explain(a); ok {
			t.Errorf("%s: explained", name)
		}
	}
}

func TestUnitOf(t *testing.T) {
	for cg, want := range map[string]string{
		"/":                               "/",
		"system.slice/containerd.service": "system.slice/containerd.service",
		"system.slice/docker-4f2a.scope":  "system.slice/docker-4f2a.scope",
		"user.slice/user-0.slice/session-1.scope": "user.slice/user-0.slice",
		"init.scope": "init.scope",
		"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1c.slice/cri-containerd-a1b2.scope": "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1c.slice",
		"kubepods.slice/kubepods-pod77aa.slice/cri-containerd-c3d4.scope":                                    "kubepods.slice/kubepods-pod77aa.slice",
		"kubepods/burstable/pod6f1c/a1b2":                                                                    "kubepods/burstable/pod6f1c",
		"kubepods/pod77aa/c3d4":                                                                              "kubepods/pod77aa",
		"kubepods.slice/kubepods-besteffort.slice":                                                           "kubepods.slice/kubepods-besteffort.slice",
	} {
		if got := UnitOf(cg); got != want {
			t.Errorf("UnitOf(%q) = %q, want %q", cg, got, want)
		}
	}
}

// Derive explains every breakdown with raw readings when a document is
// parsed, replacing whatever explained it carried, and sums PSS by unit and
// pod; the caller's breakdowns are left as they were.
func TestParseDerivesTheAccountingAndPSSByUnit(t *testing.T) {
	bare, err := os.ReadFile("testdata/accounting-bare.json")
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"schemaVersion":1,"node":"bare","status":"ok","breakdowns":[` +
		`{"phase":"idle","explained":{"usedKiB":1,"parts":[],"unexplainedKiB":1},"accounting":` + string(bare) + `,` +
		`"processesByCgroup":{"system.slice/ssh.service":{"pssKiB":900,"rssKiB":5000,"processes":2,"largest":"sshd"},` +
		`"kubepods/burstable/pod6f1c/a1b2":{"pssKiB":200000,"rssKiB":210000,"processes":1,"largest":"kube-apiserver"},` +
		`"kubepods/burstable/pod6f1c/e5f6":{"pssKiB":300,"rssKiB":900,"processes":1,"largest":"pause"},` +
		`"init.scope":{"pssKiB":null,"rssKiB":9000,"processes":1,"largest":"systemd"}}},` +
		`{"phase":"workload","oomKills":0}]}`
	r, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	idle, _ := r.BreakdownOf("idle")
	if idle.Explained == nil || idle.Explained.UsedKiB != 178096 || idle.Explained.UnexplainedKiB != 3100 {
		t.Fatalf("explained %+v", idle.Explained)
	}
	want := map[string]int64{"system.slice/ssh.service": 900, "kubepods/burstable/pod6f1c": 200300}
	if !reflect.DeepEqual(idle.PSSByUnitKiB, want) {
		t.Errorf("PSS by unit %v, want %v", idle.PSSByUnitKiB, want)
	}
	if w, _ := r.BreakdownOf("workload"); w.Explained != nil || w.PSSByUnitKiB != nil {
		t.Errorf("a breakdown without readings explained: %+v", w)
	}
	before := r.Breakdowns
	r.Breakdowns[0].Explained = nil
	r.Derive()
	if before[0].Explained != nil || r.Breakdowns[0].Explained == nil {
		t.Error("Derive changed the caller's breakdowns in place, or did not explain")
	}
	out, _ := json.Marshal(r)
	if !strings.Contains(string(out), `"unexplainedKiB":3100`) {
		t.Errorf("the explanation is not written out: %s", out)
	}
}
