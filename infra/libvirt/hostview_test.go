package libvirt

import (
	"maps"
	"testing"
)

func TestParseRollup(t *testing.T) {
	const rollup = `55a1c0000000-7ffd3a5f2000 ---p 00000000 00:00 0                          [rollup]
Rss:              612340 kB
Pss:              598812 kB
Pss_Anon:         590000 kB
Shared_Clean:      14000 kB
`
	if rss, pss := parseRollup(rollup); rss != 612340 || pss != 598812 {
		t.Errorf("rss %d pss %d", rss, pss)
	}
}

func TestParseMemstatKeepsAmountsOnly(t *testing.T) {
	const out = `actual 1048576
swap_in 0
major_fault 1520
minor_fault 240011
unused 655360
available 1003200
last_update 1764680000
rss 612340
`
	want := map[string]int64{"actual": 1048576, "swap_in": 0, "unused": 655360, "available": 1003200, "rss": 612340}
	if got := parseMemstat(out); !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestQEMUPIDPathIsLocalOnly(t *testing.T) {
	if p := qemuPIDPath("qemu:///system", "d"); p != "/run/libvirt/qemu/d.pid" {
		t.Errorf("system: %q", p)
	}
	if p := qemuPIDPath("qemu+ssh://lab/system", "d"); p != "" {
		t.Errorf("remote: %q", p)
	}
}
