package main

import (
	"strconv"
	"strings"
	"testing"
)

// console is what a boot's serial console shows: the probe's lines as
// journald prints them, with another unit's line in between.
func console(used, pcpPages int, extra string) string {
	total := 1000000
	text := "BASELINE-BEGIN meminfo\nMemTotal: " + strconv.Itoa(total) + " kB\nMemFree: 1 kB\nMemAvailable: " + strconv.Itoa(total-used*1024) +
		" kB\nBASELINE-END\nBASELINE-BEGIN zoneinfo\nNode 0, zone    DMA32\n  pages free     100\n    cpu: 0\n              count: " + strconv.Itoa(pcpPages) +
		"\nBASELINE-END\nBASELINE-BEGIN vmstat\nnr_free_pages 1000\nnr_kernel_stack 10\nBASELINE-END\n" +
		"BASELINE-BEGIN memblock\n   0: 0x0000000001000000..0x0000000001ffffff\n" + extra + "BASELINE-END\nBASELINE-DONE"
	out := "[    0.000000] Linux version 6.1.0\r\n"
	for i, line := range strings.Split(text, "\n") {
		out += "[  113.4" + strconv.Itoa(i) + "] baseline-probe[434]: " + line + "\r\n"
		if i == 2 {
			out += "[\x1b[0;32m  OK  \x1b[0m] Finished something.\r\n"
		}
	}
	return out
}

// The boots split at the widest gap; a figure that moves with the state
// is listed, one that does not is left out.
func TestCompareFindsWhatDiffersBetweenStates(t *testing.T) {
	mk := func(name string, used int, extra string) boot {
		pcp := 256 // 1 MiB
		if extra != "" {
			pcp = 11776 // 46 MiB: the high state's per-CPU lists
		}
		b := boot{name: name, blocks: blocks(console(used, pcp, extra))}
		mi := fields(b.blocks["meminfo"])
		b.usedMB = (mi["MemTotal:"] - mi["MemAvailable:"]) / 1024
		return b
	}
	// 45 MiB more memblock reservations in the high state.
	high := "   1: 0x0000000010000000..0x0000000012cfffff\n"
	boots := []boot{mk("a", 167, ""), mk("b", 168, ""), mk("c", 213, high), mk("d", 214, high)}
	out := compare(boots)
	for _, want := range []string{"low state: 2 boots, high state: 2 boots", "memblock/reserved", "+45.0", "meminfo/MemAvailable:",
		"zoneinfo/DMA32/pcp_count", "c used 213.0 MiB, on per-CPU free lists 46.0 MiB, used without them 167.0 MiB",
		"spread: used 47.0 MiB, used without the per-CPU free lists 2.0 MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "vmstat/nr_kernel_stack") {
		t.Errorf("a figure that does not move is listed:\n%s", out)
	}
	if got := compare(boots[:2]); !strings.Contains(got, "one state only") {
		t.Errorf("two close boots split into states:\n%s", got)
	}
}

func TestZoneFigures(t *testing.T) {
	const zi = `Node 0, zone    DMA32
  per-node stats
      nr_inactive_anon 12
  pages free     150000
        boost    0
        spanned  258048
        present  258048
        managed  240000
  pagesets
    cpu: 0
              count: 1200
              high:  1500
              batch: 63
`
	got := zoneFigures(zi)
	if got["DMA32/free"] != 150000 || got["DMA32/managed"] != 240000 || got["DMA32/present"] != 258048 || got["DMA32/pcp_count"] != 1200 {
		t.Errorf("zone figures %v", got)
	}
}
