package libvirt

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/footprint-dev/footprint/infra/machine"
)

// qemuPIDPath is where libvirt keeps the PID of a domain's QEMU process, or
// "" when the host is not this one.
func qemuPIDPath(uri, domain string) string {
	return localPath(uri, "/run/libvirt/qemu", os.Getenv("XDG_RUNTIME_DIR"), "libvirt/qemu/run", domain+".pid")
}

// View is the host's side of a running domain's memory: its QEMU process's
// Rss and Pss from /proc/PID/smaps_rollup, and what `virsh dommemstat`
// reports. The balloon's guest statistics appear only where the domain's
// stats period is set; footprint does not set it, because the guest's
// balloon driver would then work for it while it is measured.
func (v Virsh) View(ctx context.Context, domain, pidFile string) (machine.HostView, error) {
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		return machine.HostView{}, fmt.Errorf("QEMU PID of %s: %w", domain, err)
	}
	rollup, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(pid)), "smaps_rollup"))
	if err != nil {
		return machine.HostView{}, fmt.Errorf("QEMU memory of %s: %w", domain, err)
	}
	view := machine.HostView{}
	view.RSSKiB, view.PSSKiB = parseRollup(string(rollup))
	stats, err := v.run(ctx, "dommemstat", domain)
	if err != nil {
		return view, err
	}
	view.BalloonKiB = parseMemstat(stats)
	return view, nil
}

// parseRollup reads Rss and Pss (kB) of a smaps_rollup.
func parseRollup(s string) (rss, pss int64) {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "Rss:":
			rss = n
		case "Pss:":
			pss = n
		}
	}
	return rss, pss
}

// notKiB are the fields of `virsh dommemstat` that are not amounts of
// memory: event counts and a time stamp.
var notKiB = map[string]bool{"last_update": true, "major_fault": true, "minor_fault": true,
	"hugetlb_pgalloc": true, "hugetlb_pgfail": true}

// parseMemstat reads the "name value" lines of `virsh dommemstat` that are
// amounts in KiB.
func parseMemstat(s string) map[string]int64 {
	out := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || notKiB[f[0]] {
			continue
		}
		if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			out[f[0]] = n
		}
	}
	return out
}
