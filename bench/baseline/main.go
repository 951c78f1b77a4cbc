// Command baseline looks for the memory that comes and goes between boots
// of the same image (docs/baseline.md): it boots the offline test image
// several times with no agent, straight from virsh in a private libvirtd,
// has each guest print what the kernel reports of its memory after a settle
// time (meminfo, vmstat, zoneinfo, buddyinfo, memblock's reservations,
// vmalloc by caller, slab totals, the boot log's memory lines and, with
// page_owner=on, allocations summed by call site), saves each console, and
// prints the fields that differ between the boots in the low and the high
// state.
//
//	go run ./bench/baseline -boots 6 -append page_owner=on -out build/baseline/po
package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/footprint-dev/footprint/internal/labhost"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

type options struct {
	boots, parallel, settle int
	appendArgs, out, xml    string
}

func run() error {
	var o options
	flag.IntVar(&o.boots, "boots", 6, "how many boots")
	flag.IntVar(&o.parallel, "parallel", 2, "boots at once")
	flag.IntVar(&o.settle, "settle", 10, "seconds after cloud-final before reading")
	flag.StringVar(&o.appendArgs, "append", "", "kernel arguments added to the image's boot entry (a copy of the image)")
	flag.StringVar(&o.xml, "xml", "minimal", "domain definition: minimal, or provider (the libvirt provider's devices: channel, memballoon, rng, i440fx)")
	flag.StringVar(&o.out, "out", "", "folder for the consoles and the table (default build/baseline/<time>)")
	from := flag.String("from", "", "compare the consoles saved in this folder by an earlier run, booting nothing")
	flag.Parse()
	if *from != "" {
		boots, err := readSaved(*from)
		if err != nil {
			return err
		}
		fmt.Print(compare(boots))
		return nil
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	if o.out == "" {
		o.out = filepath.Join(root, "build", "baseline", time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "footprint-baseline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o755); err != nil { // QEMU runs as its own user
		return err
	}
	image := filepath.Join(root, "build", "images", "test-bookworm.qcow2")
	if o.appendArgs != "" {
		if image, err = withKernelArgs(image, work, o.appendArgs); err != nil {
			return err
		}
	}
	h, err := labhost.Up(root, fmt.Sprintf("fpbase%d", os.Getpid()%100000))
	if err != nil {
		return err
	}
	defer func() {
		if err := h.Down(); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
		}
	}()
	boots, err := bootAll(h, work, image, o)
	if err != nil {
		return err
	}
	table := compare(boots)
	fmt.Print(table)
	return os.WriteFile(filepath.Join(o.out, "table.txt"), []byte(table), 0o644)
}

// probe prints each source between markers; page_owner only where it is on.
const probe = `#!/bin/sh
# shellcheck disable=SC2016 # awk programs, passed on by block
sleep "$1"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
block() { echo "BASELINE-BEGIN $1"; shift; "$@" 2>&1; echo "BASELINE-END"; }
block meminfo cat /proc/meminfo
block vmstat cat /proc/vmstat
block zoneinfo cat /proc/zoneinfo
block buddyinfo cat /proc/buddyinfo
block memblock cat /sys/kernel/debug/memblock/reserved
block vmalloc awk '{ c = $3; sub(/\+0x.*/, "", c); s[c] += $2 } END { for (c in s) print c, s[c] }' /proc/vmallocinfo
block slab awk 'NR > 2 { s += $3 * $4 } END { print "slab_bytes", s }' /proc/slabinfo
block dmesg sh -c 'dmesg | grep -E "Memory:|Freeing|reserved|swiotlb|initrd|crashkernel|e820|KASLR|hugepage" | head -n 80'
if [ -r /sys/kernel/debug/page_owner ]; then
	block page_owner awk '
		/^Page allocated via order/ { if (st != "") n[st] += p; o = $5; sub(",", "", o); p = 2 ^ o; st = ""; grab = 1; next }
		grab && /^ / {
			f = $1; sub(/\+0x.*/, "", f)
			if (f ~ /^(post_alloc_hook|prep_new_page|get_page_from_freelist|__alloc_pages|alloc_pages|__folio_alloc|folio_alloc|vma_alloc_folio|__get_free_pages|alloc_pages_exact|__alloc_pages_bulk|alloc_page_interleave)/) next
			if (lines < 4) st = st (st == "" ? "" : "<") f
			lines++; next
		}
		/^$/ { grab = 0; lines = 0 }
		END { if (st != "") n[st] += p; for (s in n) printf "%d %s\n", n[s], s }' /sys/kernel/debug/page_owner
fi
echo BASELINE-DONE
`

const userData = `#cloud-config
write_files:
  - path: /usr/local/sbin/baseline-probe
    permissions: '0755'
    encoding: b64
    content: %s
  - path: /etc/systemd/system/baseline-probe.service
    content: |
      [Unit]
      After=cloud-final.service
      [Service]
      Type=oneshot
      ExecStart=/usr/local/sbin/baseline-probe %d
      StandardOutput=journal+console
runcmd:
  - [systemctl, daemon-reload]
  - [systemctl, start, --no-block, baseline-probe.service]
`

type boot struct {
	name   string
	blocks map[string]string
	usedMB float64
}

func bootAll(h *labhost.Host, work, image string, o options) ([]boot, error) {
	if err := os.WriteFile(filepath.Join(work, "user-data"), []byte(fmt.Sprintf(userData, b64(probe), o.settle)), 0o644); err != nil {
		return nil, err
	}
	net := filepath.Join(work, "net.xml")
	if err := os.WriteFile(net, []byte(`<network><name>fpbase</name><forward mode="nat"/><bridge name="fpbase0"/>
<ip address="10.250.9.1" netmask="255.255.255.0"><dhcp><range start="10.250.9.10" end="10.250.9.50"/></dhcp></ip></network>`), 0o644); err != nil {
		return nil, err
	}
	if _, err := h.Virsh("net-create", net); err != nil {
		return nil, err
	}
	defer h.Virsh("net-destroy", "fpbase")
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		boots []boot
		errs  []error
		slots = make(chan struct{}, o.parallel)
	)
	for i := 1; i <= o.boots; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			b, err := bootOnce(h, work, image, o, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			fmt.Fprintf(os.Stderr, "baseline: %s used %.1f MiB\n", b.name, b.usedMB)
			boots = append(boots, b)
		}(i)
	}
	wg.Wait()
	if len(errs) > 0 {
		return boots, errs[0]
	}
	sort.Slice(boots, func(i, j int) bool { return boots[i].usedMB < boots[j].usedMB })
	return boots, nil
}

// Devices of a domain: the minimal set, or the one the libvirt provider
// gives footprint's nodes (a virtio-serial channel, libvirt's default
// memballoon, a virtio RNG and the i440fx machine).
var devices = map[string]string{
	"minimal":  `<memballoon model="none"/>`,
	"provider": `<channel type="unix"><target type="virtio" name="org.qemu.guest_agent.0"/></channel><memballoon model="virtio"/><rng model="virtio"><backend model="random">/dev/urandom</backend></rng>`,
}

func bootOnce(h *labhost.Host, work, image string, o options, i int) (boot, error) {
	name := fmt.Sprintf("fpbase-%d", i)
	disk := filepath.Join(work, name+".qcow2")
	seed := filepath.Join(work, name+"-seed.iso")
	meta := filepath.Join(work, name+"-meta-data")
	if err := os.WriteFile(meta, []byte("instance-id: "+name+"\nlocal-hostname: baseline\n"), 0o644); err != nil {
		return boot{}, err
	}
	for _, c := range [][]string{
		{"qemu-img", "create", "-q", "-f", "qcow2", "-F", backingFormat(image), "-b", image, disk, "4G"},
		{"cloud-localds", seed, filepath.Join(work, "user-data"), meta},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return boot{}, fmt.Errorf("%s: %v %s", c[0], err, out)
		}
	}
	dev, ok := devices[o.xml]
	if !ok {
		return boot{}, fmt.Errorf("-xml %q: want minimal or provider", o.xml)
	}
	console := filepath.Join(work, name+".console.log")
	xml := fmt.Sprintf(`<domain type="qemu"><name>%s</name><memory unit="MiB">1024</memory><vcpu>1</vcpu>
<os><type arch="x86_64" machine="pc-i440fx-7.2">hvm</type></os><features><acpi/><apic/></features><cpu mode="custom"><model>qemu64</model></cpu>
<devices>
<disk type="file" device="disk"><driver name="qemu" type="qcow2"/><source file="%s"/><target dev="vda" bus="virtio"/></disk>
<disk type="file" device="cdrom"><driver name="qemu" type="raw"/><source file="%s"/><target dev="hdc" bus="ide"/><readonly/></disk>
<interface type="network"><source network="fpbase"/><model type="virtio"/></interface>
<serial type="pty"><target port="0"/><log file="%s" append="off"/></serial><console type="pty"><target type="serial" port="0"/></console>
%s
</devices></domain>`, name, disk, seed, console, dev)
	xmlPath := filepath.Join(work, name+".xml")
	if err := os.WriteFile(xmlPath, []byte(xml), 0o644); err != nil {
		return boot{}, err
	}
	if _, err := h.Virsh("create", xmlPath); err != nil {
		return boot{}, err
	}
	defer h.Virsh("destroy", name)
	deadline := time.Now().Add(20 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(3 * time.Second)
		data, _ := os.ReadFile(console)
		if !strings.Contains(string(data), "BASELINE-DONE") {
			continue
		}
		if err := os.WriteFile(filepath.Join(o.out, name+".console.log"), data, 0o644); err != nil {
			return boot{}, err
		}
		return parseBoot(name, string(data))
	}
	return boot{}, fmt.Errorf("%s: the probe did not finish within 20 minutes", name)
}

// readSaved reads the consoles a run saved.
func readSaved(dir string) ([]boot, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.console.log"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no *.console.log in %s", dir)
	}
	var boots []boot
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		b, err := parseBoot(strings.TrimSuffix(filepath.Base(p), ".console.log"), string(data))
		if err != nil {
			return nil, err
		}
		boots = append(boots, b)
	}
	sort.Slice(boots, func(i, j int) bool { return boots[i].usedMB < boots[j].usedMB })
	return boots, nil
}

// parseBoot reads one finished boot's console.
func parseBoot(name, console string) (boot, error) {
	b := boot{name: name, blocks: blocks(console)}
	mi := fields(b.blocks["meminfo"])
	if mi["MemTotal:"] == 0 {
		return boot{}, fmt.Errorf("%s: no meminfo on the console", name)
	}
	b.usedMB = (mi["MemTotal:"] - mi["MemAvailable:"]) / 1024
	return b, nil
}

var (
	blockRe = regexp.MustCompile(`(?s)BASELINE-BEGIN (\S+)\n(.*?)BASELINE-END`)
	// probeLine is a line of the probe as journald puts it on the console:
	// "[  113.48] baseline-probe[449]: text".
	probeLine = regexp.MustCompile(`baseline-probe\[\d+\]: (.*)$`)
)

// blocks reads the probe's blocks from a console: its own lines only, in
// order, without journald's prefix (other units print in between).
func blocks(console string) map[string]string {
	var own strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(console, "\r", ""), "\n") {
		if m := probeLine.FindStringSubmatch(line); m != nil {
			own.WriteString(m[1] + "\n")
		}
	}
	out := map[string]string{}
	for _, m := range blockRe.FindAllStringSubmatch(own.String(), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// fields reads "name value" lines (the first number after the name).
func fields(text string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[f[0]] = v
		}
	}
	return out
}

// figures are every source's numbers in MiB, by "source/name".
func figures(b boot) map[string]float64 {
	out := map[string]float64{}
	for k, v := range fields(b.blocks["meminfo"]) {
		out["meminfo/"+k] = v / 1024
	}
	for k, v := range fields(b.blocks["vmstat"]) {
		if strings.HasPrefix(k, "nr_") {
			out["vmstat/"+k] = v * 4 / 1024
		}
	}
	for k, v := range fields(b.blocks["vmalloc"]) {
		out["vmalloc/"+k] = v / (1 << 20)
	}
	for k, v := range zoneFigures(b.blocks["zoneinfo"]) {
		out["zoneinfo/"+k] = v * 4 / 1024
	}
	out["slab/total"] = fields(b.blocks["slab"])["slab_bytes"] / (1 << 20)
	out["memblock/reserved"] = memblockMiB(b.blocks["memblock"])
	if m := bootMemory.FindStringSubmatch(b.blocks["dmesg"]); m != nil {
		for i, k := range []string{"available at mm_init", "of", "reserved"} {
			v, _ := strconv.ParseFloat(m[i+1], 64)
			out["dmesg/Memory: "+k] = v / 1024
		}
	}
	for _, line := range strings.Split(b.blocks["page_owner"], "\n") {
		n, site, ok := strings.Cut(line, " ")
		if v, err := strconv.ParseFloat(n, 64); ok && err == nil {
			out["page_owner/"+site] = v * 4 / 1024
		}
	}
	return out
}

// zoneFigures reads /proc/zoneinfo's pages per zone: free, managed,
// present, and what sits on the per-CPU free lists (count, summed over
// CPUs), which MemFree does not include.
func zoneFigures(text string) map[string]float64 {
	out := map[string]float64{}
	zone := ""
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == "Node" && f[2] == "zone":
			zone = f[3]
		case zone == "" || len(f) < 2:
		case f[0] == "pages" && f[1] == "free" && len(f) == 3:
			out[zone+"/free"], _ = strconv.ParseFloat(f[2], 64)
		case f[0] == "managed" || f[0] == "present" || f[0] == "spanned":
			out[zone+"/"+f[0]], _ = strconv.ParseFloat(f[1], 64)
		case f[0] == "count:":
			v, _ := strconv.ParseFloat(f[1], 64)
			out[zone+"/pcp_count"] += v
		}
	}
	return out
}

// bootMemory is the kernel's "Memory: 260860K/1048036K available (...,
// 75588K reserved, ...)" line.
var bootMemory = regexp.MustCompile(`Memory: (\d+)K/(\d+)K available .* (\d+)K reserved`)

func spread(v []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return hi - lo
}

// rangeRe is a line of debugfs memblock/reserved: "   3: 0x...000..0x...fff".
var rangeRe = regexp.MustCompile(`(0x[0-9a-f]+)\.\.(0x[0-9a-f]+)`)

func memblockMiB(text string) float64 {
	total := 0.0
	for _, m := range rangeRe.FindAllStringSubmatch(text, -1) {
		a, _ := strconv.ParseUint(m[1][2:], 16, 64)
		z, _ := strconv.ParseUint(m[2][2:], 16, 64)
		total += float64(z-a+1) / (1 << 20)
	}
	return total
}

// compare splits the boots at the widest gap in used (a state when it is
// 20 MiB or more) and lists the figures whose means differ most.
func compare(boots []boot) string {
	var b strings.Builder
	var used, net []float64
	for _, x := range boots {
		pcp := 0.0
		for k, v := range figures(x) {
			if strings.HasSuffix(k, "/pcp_count") {
				pcp += v
			}
		}
		fmt.Fprintf(&b, "%s used %.1f MiB, on per-CPU free lists %.1f MiB, used without them %.1f MiB\n", x.name, x.usedMB, pcp, x.usedMB-pcp)
		used, net = append(used, x.usedMB), append(net, x.usedMB-pcp)
	}
	if len(boots) > 1 {
		fmt.Fprintf(&b, "spread: used %.1f MiB, used without the per-CPU free lists %.1f MiB\n", spread(used), spread(net))
	}
	split, gap := 0, 0.0
	for i := 1; i < len(boots); i++ {
		if d := boots[i].usedMB - boots[i-1].usedMB; d > gap {
			split, gap = i, d
		}
	}
	if gap < 20 {
		fmt.Fprintf(&b, "one state only (widest gap %.1f MiB)\n", gap)
		return b.String()
	}
	low, high := boots[:split], boots[split:]
	fmt.Fprintf(&b, "low state: %d boots, high state: %d boots, gap %.1f MiB\n\n", len(low), len(high), gap)
	mean := func(set []boot, k string) float64 {
		s := 0.0
		for _, x := range set {
			s += figures(x)[k]
		}
		return s / float64(len(set))
	}
	keys := map[string]bool{}
	for _, x := range boots {
		for k := range figures(x) {
			keys[k] = true
		}
	}
	type diff struct {
		key       string
		lo, hi, d float64
	}
	var diffs []diff
	for k := range keys {
		lo, hi := mean(low, k), mean(high, k)
		if math.Abs(hi-lo) >= 1 {
			diffs = append(diffs, diff{k, lo, hi, hi - lo})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return math.Abs(diffs[i].d) > math.Abs(diffs[j].d) })
	fmt.Fprintf(&b, "%-70s %10s %10s %10s\n", "figure (MiB)", "low", "high", "high-low")
	for _, d := range diffs {
		fmt.Fprintf(&b, "%-70.70s %10.1f %10.1f %+10.1f\n", d.key, d.lo, d.hi, d.d)
	}
	return b.String()
}

func backingFormat(image string) string {
	if strings.HasSuffix(image, ".raw") {
		return "raw"
	}
	return "qcow2"
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// withKernelArgs writes a raw copy of image whose boot entry has args added
// to the kernel's command line, the way testimage/build.sh wrote it.
func withKernelArgs(image, work, args string) (string, error) {
	raw := filepath.Join(work, "image.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", image, raw).CombinedOutput(); err != nil {
		return "", fmt.Errorf("qemu-img convert: %v %s", err, out)
	}
	out, err := exec.Command("losetup", "-f", "--show", "-P", raw).Output()
	if err != nil {
		return "", fmt.Errorf("losetup: %w", err)
	}
	loop := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop).Run()
	part := loop + "p1"
	for i := 0; i < 20; i++ { // this kernel does not always scan loop partitions itself
		if _, err := os.Stat(part); err == nil {
			break
		}
		exec.Command("partx", "-a", loop).Run()
		time.Sleep(250 * time.Millisecond)
	}
	mnt := filepath.Join(work, "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("mount", part, mnt).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mount %s: %v %s", part, err, out)
	}
	defer exec.Command("umount", mnt).Run()
	cfg := filepath.Join(mnt, "boot", "grub", "grub.cfg")
	data, err := os.ReadFile(cfg)
	if err != nil {
		return "", err
	}
	text := strings.Replace(string(data), " console=ttyS0", " console=ttyS0 "+args, 1)
	if text == string(data) {
		return "", fmt.Errorf("%s has no 'console=ttyS0' to add %q after", cfg, args)
	}
	return raw, os.WriteFile(cfg, []byte(text), 0o644)
}
