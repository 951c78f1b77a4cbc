package main

import (
	"strconv"
	"strings"
	"testing"
)

func console(used int, extra string) string {
	total := 1000000
	return "noise\r\nBASELINE-BEGIN meminfo\r\nMemTotal: " + strconv.Itoa(total) + " kB\r\nMemFree: 1 kB\r\nMemAvailable: " + strconv.Itoa(total-used*1024) +
		" kB\r\nBASELINE-END\r\nBASELINE-BEGIN vmstat\r\nnr_free_pages 1000\r\nnr_kernel_stack 10\r\nBASELINE-END\r\n" +
		"BASELINE-BEGIN memblock\r\n   0: 0x0000000001000000..0x0000000001ffffff\r\n" + extra + "BASELINE-END\r\nBASELINE-DONE\r\n"
}

// The boots split at the widest gap; a figure that moves with the state
// is listed, one that does not is left out.
func TestCompareFindsWhatDiffersBetweenStates(t *testing.T) {
	mk := func(name string, used int, extra string) boot {
		b := boot{name: name, blocks: blocks(console(used, extra))}
		mi := fields(b.blocks["meminfo"])
		b.usedMB = (mi["MemTotal:"] - mi["MemAvailable:"]) / 1024
		return b
	}
	// 45 MiB more memblock reservations in the high state.
	high := "   1: 0x0000000010000000..0x0000000012cfffff\r\n"
	boots := []boot{mk("a", 167, ""), mk("b", 168, ""), mk("c", 213, high), mk("d", 214, high)}
	out := compare(boots)
	for _, want := range []string{"low state: 2 boots, high state: 2 boots", "memblock/reserved", "+45.0", "meminfo/MemAvailable:"} {
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
