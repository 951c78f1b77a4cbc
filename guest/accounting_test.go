package guest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/results"
)

// A bare Debian 12 guest of 1 GiB as its kernel (6.1) shows it: meminfo and
// zoneinfo in the kernel's own format (testdata/meminfo-1g-bare,
// testdata/zoneinfo-1g-bare), cgroup v2 with memory.stat in bytes,
// processes with smaps_rollup and their cgroup, and the boot log's percpu
// line. The breakdown records exactly the readings of
// results/testdata/accounting-bare.json, from which the used memory is
// explained but for the 3100 KiB no counter holds.
func TestAgentRecordsWhatUsedMemoryIsSplitFrom(t *testing.T) {
	p, _ := profiles.Get("bare")
	a := newAgentRun(t, p, "")
	want := bareAccounting(t)
	// systemd escapes a unit's dashes: the path keeps its backslash, escaped in JSON.
	getty := `system.slice/system-serial\x2dgetty.slice`
	want.MemoryStatKiB[getty] = map[string]int64{"anon": 200, "shmem": 0, "file": 900, "active_anon": 0, "inactive_anon": 200, "unevictable": 0}
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(a.dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/meminfo", readFile(t, "testdata/meminfo-1g-bare"))
	write("proc/zoneinfo", readFile(t, "testdata/zoneinfo-1g-bare"))
	for cg, st := range want.MemoryStatKiB {
		write("cgroup/"+cg+"/memory.current", fmt.Sprintf("%d\n", (st["anon"]+st["file"]+1000)*1024))
		write("cgroup/"+cg+"/memory.stat", memoryStat(st))
	}
	// Under 1 MiB, and without memory.stat: neither is recorded.
	write("cgroup/system.slice/cron.service/memory.current", "512000\n")
	write("cgroup/system.slice/cron.service/memory.stat", memoryStat(map[string]int64{"anon": 300}))
	write("cgroup/user.slice/memory.current", "4194304\n")
	for _, pr := range []struct {
		pid       int
		name, cg  string
		rss, pss  int64
		noRollup  bool
		kthread   bool
		cgroupV1s bool
	}{
		{pid: 1, name: "systemd", cg: "init.scope", rss: 11800, pss: 6020},
		{pid: 412, name: "unattended-upgr", cg: "system.slice/unattended-upgrades.service", rss: 24100, pss: 19870},
		{pid: 530, name: "sshd", cg: "system.slice/ssh.service", rss: 7900, pss: 2310, cgroupV1s: true},
		{pid: 531, name: "sshd", cg: "system.slice/ssh.service", rss: 8000, noRollup: true},
		{pid: 2, name: "kthreadd", cg: "", kthread: true},
		{pid: 610, name: "agetty", cg: getty + "/serial-getty@ttyS0.service", rss: 2100, pss: 310},
	} {
		dir := fmt.Sprintf("proc/%d/", pr.pid)
		status := fmt.Sprintf("Name:\t%s\nPid:\t%d\n", pr.name, pr.pid)
		if !pr.kthread {
			status += fmt.Sprintf("VmRSS:\t%8d kB\n", pr.rss)
		}
		write(dir+"status", status)
		if !pr.noRollup {
			write(dir+"smaps_rollup", fmt.Sprintf("55d0c0a4b000-7ffd5a9fd000 ---p 00000000 00:00 0                          [rollup]\n"+
				"Rss:               %d kB\nPss:               %d kB\nPss_Anon:          100 kB\n", pr.rss, pr.pss))
		}
		cgroup := "0::/" + pr.cg + "\n"
		if pr.cgroupV1s {
			cgroup = "12:memory:/user.slice\n" + cgroup
		}
		write(dir+"cgroup", cgroup)
	}
	write("bin/dmesg", "#!/bin/sh\necho '[    0.041234] percpu: Embedded 61 pages/cpu s212992 r8192 d28672 u262144'\n")

	r, _ := a.run(t)
	b, ok := r.BreakdownOf("idle")
	if !ok || b.Accounting == nil {
		t.Fatalf("no accounting in the breakdown: %+v", b)
	}
	if !reflect.DeepEqual(*b.Accounting, want) {
		got, _ := json.Marshal(b.Accounting)
		w, _ := json.Marshal(want)
		t.Errorf("accounting\n got %s\nwant %s", got, w)
	}
	if e := b.Explained; e == nil || e.UsedKiB != 178096 || e.UnexplainedKiB != 3100 {
		t.Errorf("explained %+v", e)
	}

	pss := func(v int64) *int64 { return &v }
	wantTop := []results.Process{{PID: 412, Name: "unattended-upgr", RSSKiB: 24100, PSSKiB: pss(19870)},
		{PID: 1, Name: "systemd", RSSKiB: 11800, PSSKiB: pss(6020)},
		{PID: 531, Name: "sshd", RSSKiB: 8000}, {PID: 530, Name: "sshd", RSSKiB: 7900, PSSKiB: pss(2310)},
		{PID: 610, Name: "agetty", RSSKiB: 2100, PSSKiB: pss(310)}}
	if !reflect.DeepEqual(b.TopProcesses, wantTop) {
		t.Errorf("top processes %+v", b.TopProcesses)
	}
	wantGroups := map[string]results.ProcessGroup{
		"init.scope": {PSSKiB: pss(6020), RSSKiB: 11800, Processes: 1, Largest: "systemd"},
		"system.slice/unattended-upgrades.service": {PSSKiB: pss(19870), RSSKiB: 24100, Processes: 1, Largest: "unattended-upgr"},
		"system.slice/ssh.service":                 {PSSKiB: pss(2310), RSSKiB: 15900, Processes: 2, Largest: "sshd"},
		getty + "/serial-getty@ttyS0.service":      {PSSKiB: pss(310), RSSKiB: 2100, Processes: 1, Largest: "agetty"},
	}
	if !reflect.DeepEqual(b.ProcessesByCgroup, wantGroups) {
		t.Errorf("processes by cgroup %+v", b.ProcessesByCgroup)
	}
	if b.PSSByUnitKiB["system.slice/ssh.service"] != 2310 || b.PSSByUnitKiB[getty] != 310 || len(b.PSSByUnitKiB) != 4 {
		t.Errorf("PSS by unit %v", b.PSSByUnitKiB)
	}
}

// Without zoneinfo, memory.stat or smaps_rollup (an older kernel, the
// other tests' fixtures) the breakdown still comes, unexplained.
func TestAgentBreakdownWithoutTheAccountingFiles(t *testing.T) {
	p, _ := profiles.Get("bare")
	r, _ := newAgentRun(t, p, "").run(t)
	b, ok := r.BreakdownOf("idle")
	if !ok || b.Accounting == nil || len(b.Accounting.Zones) != 0 || b.Explained != nil || b.Accounting.MeminfoKiB["MemTotal"] != 996452 {
		t.Errorf("breakdown %+v", b)
	}
}

func bareAccounting(t *testing.T) results.Accounting {
	t.Helper()
	var a results.Accounting
	if err := json.Unmarshal([]byte(readFile(t, "../results/testdata/accounting-bare.json")), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// memoryStat is a cgroup v2 memory.stat in bytes, with the fields the
// accounting does not read around those it does.
func memoryStat(kib map[string]int64) string {
	out := ""
	for _, k := range []string{"anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock",
		"vmalloc", "shmem", "file_mapped", "file_dirty", "inactive_anon", "active_anon", "inactive_file", "active_file",
		"unevictable", "slab_reclaimable", "slab_unreclaimable", "workingset_refault_anon"} {
		out += fmt.Sprintf("%s %d\n", k, kib[k]*1024)
	}
	return out
}
