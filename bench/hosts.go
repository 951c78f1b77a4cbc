package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/internal/labhost"
)

// guestOverheadMiB is what the planner counts per guest beyond its memory
// under software emulation (the libvirt backend's default for qemu).
const guestOverheadMiB = 512

// twoHosts is the four-node run over two lab hosts, one guest at a time on
// each: its wall time, the machine's peak memory while it ran above the
// level before it, and what the plan promised at most for one round.
type twoHosts struct {
	wall, peakMiB, promisedMiB float64
	waves                      int
}

// twoHostRun runs four repeats of bare on two private libvirtds, the second
// reached through qemu+ssh, and samples the machine's used memory
// (MemTotal - MemAvailable) every second meanwhile. Both lab hosts share
// this machine, so its peak is what both hosts' waves took together.
func twoHostRun(root, work, cli, image string) (twoHosts, error) {
	a, err := labhost.Up(root, fmt.Sprintf("fpbencha%d", os.Getpid()%100000))
	if err != nil {
		return twoHosts{}, err
	}
	defer a.Down()
	b, err := labhost.Up(root, fmt.Sprintf("fpbenchb%d", os.Getpid()%100000))
	if err != nil {
		return twoHosts{}, err
	}
	defer b.Down()
	remote, err := b.ServeSSH(a, filepath.Join(work, "remote"))
	if err != nil {
		return twoHosts{}, err
	}
	defer remote.Stop()

	dir := filepath.Join(work, "hosts")
	yaml := fmt.Sprintf(`config:
  footprint:libvirt:
    domainType: qemu
    maxGuests: 1
    hosts: [{uri: "qemu:///system"}, {uri: "%s"}]
  footprint:image: build/images/test-bookworm.qcow2
  footprint:profiles: [bare]
  footprint:repeats: 4
  footprint:diskGiB: 4
  footprint:settle: %ds
  footprint:samples: 3
  footprint:sampleInterval: 2s
  footprint:collectDeadline: 20m
`, remote.URI, settle)
	if err := labhost.Project(root, dir, "hosts", yaml, map[string]string{"test-bookworm.qcow2": image}); err != nil {
		return twoHosts{}, err
	}
	before, err := usedMiB()
	if err != nil {
		return twoHosts{}, err
	}
	fmt.Fprintf(os.Stderr, "bench: footprint run, 4 nodes on two hosts...\n")
	stop := make(chan struct{})
	peak := make(chan float64)
	go func() { peak <- samplePeak(stop) }()
	start := time.Now()
	out, code, err := a.Exec(dir, []string{"HOME=" + remote.Home}, cli, "run", "--stack", "hosts", "--quiet")
	wall := time.Since(start).Seconds()
	close(stop)
	top := <-peak
	if err != nil || code != 0 {
		return twoHosts{}, fmt.Errorf("footprint run (two hosts) exited %d: %v\n%s", code, err, out)
	}
	runDir, r, err := onlyRun(dir)
	if err != nil {
		return twoHosts{}, err
	}
	for _, node := range []string{"bare-r2", "bare-r4"} { // on the remote host
		if _, err := os.Stat(filepath.Join(runDir, node+".domain.xml")); err != nil {
			return twoHosts{}, fmt.Errorf("the remote machine's definition was not saved: %w", err)
		}
	}
	m := twoHosts{wall: wall, peakMiB: top - before}
	perRound := map[int]float64{}
	for _, n := range r.Nodes {
		if n.Machine == nil {
			return m, fmt.Errorf("node %s has no machine record", n.Node)
		}
		perRound[n.Machine.Wave] += float64(n.Machine.MemoryMiB + guestOverheadMiB)
		m.waves = max(m.waves, n.Machine.Wave)
	}
	for _, mib := range perRound {
		m.promisedMiB = max(m.promisedMiB, mib)
	}
	for _, h := range []*labhost.Host{a, b} {
		if left, _ := h.Leftovers("footprint-hosts"); len(left) > 0 {
			return m, fmt.Errorf("the two-host run left %v on %s", left, h.Name)
		}
	}
	fmt.Fprintf(os.Stderr, "bench:   wall %.1f s in %d waves, machine's peak %.0f MiB above its %.0f MiB before\n", m.wall, m.waves, m.peakMiB, before)
	return m, nil
}

// samplePeak is the highest used memory of the machine, read every second
// until stop closes.
func samplePeak(stop chan struct{}) float64 {
	top := 0.0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if v, err := usedMiB(); err == nil {
			top = max(top, v)
		}
		select {
		case <-stop:
			return top
		case <-tick.C:
		}
	}
}

// usedMiB is the machine's MemTotal - MemAvailable.
func usedMiB() (float64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	kib := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 {
			v, _ := strconv.ParseFloat(fields[1], 64)
			kib[strings.TrimSuffix(fields[0], ":")] = v
		}
	}
	if kib["MemTotal"] == 0 {
		return 0, fmt.Errorf("/proc/meminfo has no MemTotal")
	}
	return (kib["MemTotal"] - kib["MemAvailable"]) / 1024, nil
}
