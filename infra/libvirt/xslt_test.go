package libvirt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/names"
)

// providerDomain is the shape of the XML the libvirt provider defines
// before the stylesheet runs (its features, its disks, the display it
// adds, the serial console), for a domain type and disk elements.
const providerDomain = `<domain type='%s'>
  <name>footprint-ci-kubeadm-1024m</name>
  <features><acpi/><apic/><pae/></features>
  <devices>
    %s
    <graphics type='spice' autoport='yes'/>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>`

// ciDisks are the disks of stack ci's kubeadm node with its offline install.
var ciDisks = []string{
	volumeElement("footprint-ci", "footprint-ci-kubeadm-1024m.qcow2", "vda", false),
	volumeElement("footprint-ci", "footprint-ci-artifacts-kubeadm.iso", "vdb", false),
}

// volumeElement is a disk of a pool's volume as the provider writes it: by
// pool and name, or by the volume's path in the pool's folder.
func volumeElement(pool, volume, dev string, asFile bool) string {
	if asFile {
		return fmt.Sprintf(`<disk type='file' device='disk'><source file='/var/lib/libvirt/pools/%s/%s'/><target dev='%s'/></disk>`, pool, volume, dev)
	}
	return fmt.Sprintf(`<disk type='volume' device='disk'><source pool='%s' volume='%s'/><target dev='%s'/></disk>`, pool, volume, dev)
}

// transform runs the domain stylesheet over the provider's XML with
// xsltproc, the libxslt that libvirt's provider uses too.
func transform(t *testing.T, domainType, xslt string, disks ...string) string {
	t.Helper()
	dir := t.TempDir()
	style, doc := filepath.Join(dir, "domain.xsl"), filepath.Join(dir, "domain.xml")
	if err := os.WriteFile(style, []byte(xslt), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, []byte(fmt.Sprintf(providerDomain, domainType, strings.Join(disks, "\n    "))), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xsltproc", style, doc).CombinedOutput()
	if err != nil {
		t.Fatalf("xsltproc (scripts/tools.sh installs it): %v\n%s", err, out)
	}
	return regexp.MustCompile(`>\s+<`).ReplaceAllString(string(out), "><")
}

func TestDomainStylesheet(t *testing.T) {
	got := transform(t, "qemu", domainXSLT("/var/log/libvirt/qemu/n-console.log", 2048, "footprint-ci-artifacts-kubeadm.iso"), ciDisks...)
	for _, want := range []string{
		`<features><acpi/><apic/><pae/><tcg><tb-cache unit="MiB">2048</tb-cache></tcg></features>`,
		`volume="footprint-ci-artifacts-kubeadm.iso"/><target dev="vdb"/><readonly/></disk>`,
		`<target type="serial" port="0"/><log file="/var/log/libvirt/qemu/n-console.log" append="off"/></console>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %s in\n%s", want, got)
		}
	}
	if strings.Contains(got, "graphics") || strings.Count(got, "<readonly/>") != 1 {
		t.Errorf("the display is kept, or the boot disk made read-only:\n%s", got)
	}
	// QEMU's own cache size, and KVM, leave the features as the provider wrote them.
	for _, c := range []struct {
		domainType string
		mib        int
	}{{"qemu", 0}, {"kvm", 2048}} {
		if got := transform(t, c.domainType, domainXSLT("", c.mib, ""), ciDisks...); !strings.Contains(got, "<features><acpi/><apic/><pae/></features>") || strings.Contains(got, "<log") {
			t.Errorf("%s with a cache of %d MiB: %s", c.domainType, c.mib, got)
		}
	}
}

// A stack, profile or node called "artifacts" keeps its boot disk writable,
// with or without an artifacts disk beside it, whichever way the provider
// names the disks' sources; only the artifacts disk is read-only.
func TestArtifactsInAChosenNameKeepsTheBootDiskWritable(t *testing.T) {
	for _, c := range []struct{ stack, profile, node string }{
		{"my-artifacts-lab", "kubeadm", "kubeadm-1024m"},
		{"ci", "artifacts", "artifacts"},
		{"artifacts", "x-artifacts-y", "x-artifacts-y-r2"},
	} {
		prefix := names.Prefix(names.Project, c.stack)
		boot := VolumeName(names.Machine(prefix, c.node))
		artifacts := ArtifactsVolumeName(prefix, c.profile)
		for _, asFile := range []bool{false, true} {
			bootDisk := volumeElement(PoolName(prefix), boot, "vda", asFile)
			if got := transform(t, "kvm", domainXSLT("", 0, ""), bootDisk); strings.Contains(got, "<readonly/>") {
				t.Errorf("%s/%s/%s, no artifacts disk: a disk is read-only:\n%s", c.stack, c.profile, c.node, got)
			}
			got := transform(t, "kvm", domainXSLT("", 0, artifacts), bootDisk, volumeElement(PoolName(prefix), artifacts, "vdb", asFile))
			if strings.Count(got, "<readonly/>") != 1 || !strings.Contains(got, `<target dev="vdb"/><readonly/>`) {
				t.Errorf("%s/%s/%s, file %v: want the artifacts disk alone read-only:\n%s", c.stack, c.profile, c.node, asFile, got)
			}
		}
	}
}

// A name with quotes of both kinds is still one XPath string literal.
func TestXPathStringOfAnyName(t *testing.T) {
	for in, want := range map[string]string{
		"a-b.iso": "'a-b.iso'", "it's": `"it's"`, `a'b"c`: `concat('a', "'", 'b"c')`,
	} {
		if got := xpathString(in); got != want {
			t.Errorf("xpathString(%q) = %s, want %s", in, got, want)
		}
	}
}
