package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLastLinePrefersTheAgentAndStripsTerminalCodes(t *testing.T) {
	log := "[    4.4] ACPI: enabled\r\n" +
		"\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39msystemd-hostnamed.service\x1b[0m - Hostname Service.\r\n" +
		"footprint: node=bare phase=settle status=ok uptime=75.1\r\n" +
		"[   80.1] random: crng init done\r\n\r\n"
	if got := lastLine(strings.NewReader(log)); got != "footprint: node=bare phase=settle status=ok uptime=75.1" {
		t.Errorf("got %q", got)
	}
	boot := "\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mcloud-init.service\x1b[0m.\r\n"
	if got := lastLine(strings.NewReader(boot)); got != "OK  ] Started cloud-init.service." {
		t.Errorf("got %q", got)
	}
	if got := LastConsoleLine(""); got != "" {
		t.Errorf("no log: %q", got)
	}
}

func TestFromConsoleRebuildsWhatTheAgentSaid(t *testing.T) {
	log := "[   60.0] cloud-init done\r\n" +
		"footprint: node=k3s phase=boot status=ok uptime=60.10\r\n" +
		"footprint: node=k3s phase=agent status=started uptime=59.00\r\n" +
		"footprint: node=k3s phase=install status=started uptime=60.20\r\n" +
		"footprint: node=k3s phase=install status=ok uptime=200.50\r\n" +
		"footprint: node=k3s fact install=offline\r\n" +
		"footprint: node=k3s fact podNetwork=cni bridge (no add-on images offline)\r\n" +
		"footprint: node=other fact install=online\r\n" +
		"footprint: node=k3s sample phase=idle uptime=300.00 usedKiB=768000 memTotalKiB=996000\r\n" +
		"footprint: node=other sample phase=idle uptime=300.00 usedKiB=1 memTotalKiB=2\r\n" +
		"footprint: node=k3s sample phase=idle uptime=305.00 usedKiB=770048 memTotalKiB=996000\r\n" +
		"footprint: node=k3s breakdown phase=workload oomKills=2\r\n" +
		"footprint: node=k3s api verdict=unresponsive successes=0 attempts=5\r\n" +
		"[  400.0] Out of memory: Killed process 1234 (mysqld)\r\n"
	path := filepath.Join(t.TempDir(), "console.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	r, ok := FromConsole(path, "k3s")
	if !ok || r.Status != StatusUnresponsive || r.Node != "k3s" {
		t.Fatalf("ok=%v result %+v", ok, r)
	}
	var phases []string
	for _, p := range r.Phases {
		phases = append(phases, string(p.Name)+"="+string(p.Status))
	}
	if strings.Join(phases, " ") != "boot=ok install=ok" || r.Phases[1].EndedAt != 200.5 {
		t.Errorf("phases %v", r.Phases)
	}
	s, ok := r.Summarize("idle")
	if !ok || s.Samples != 2 || s.UsedMiB != 751 || s.MemTotalMiB != 996000.0/1024 {
		t.Errorf("idle summary %+v", s)
	}
	if r.API == nil || r.API.Verdict != APIUnresponsive {
		t.Errorf("api %+v", r.API)
	}
	if b, ok := r.BreakdownOf("workload"); !ok || b.OOMKills != 2 {
		t.Errorf("breakdown %+v", b)
	}
	if r.Facts["install"] != "offline" || r.Facts["podNetwork"] != "cni bridge (no add-on images offline)" || len(r.Facts) != 2 {
		t.Errorf("facts %v", r.Facts)
	}
	if _, ok := FromConsole(filepath.Join(t.TempDir(), "none"), "k3s"); ok {
		t.Error("a missing log yielded a result")
	}
}
