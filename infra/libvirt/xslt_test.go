package libvirt

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// providerDomain is the shape of the XML the libvirt provider defines
// before the stylesheet runs (its features, one disk of each kind, the
// display it adds, the serial console).
const providerDomain = `<domain type='%s'>
  <name>footprint-ci-kubeadm-1024m</name>
  <features><acpi/><apic/><pae/></features>
  <devices>
    <disk type='volume' device='disk'><source pool='footprint-ci' volume='footprint-ci-kubeadm-1024m.qcow2'/><target dev='vda'/></disk>
    <disk type='volume' device='disk'><source pool='footprint-ci' volume='footprint-ci-artifacts-kubeadm.iso'/><target dev='vdb'/></disk>
    <graphics type='spice' autoport='yes'/>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>`

// transform runs the domain stylesheet over the provider's XML with
// xsltproc, the libxslt that libvirt's provider uses too.
func transform(t *testing.T, domainType, xslt string) string {
	t.Helper()
	dir := t.TempDir()
	style, doc := filepath.Join(dir, "domain.xsl"), filepath.Join(dir, "domain.xml")
	if err := os.WriteFile(style, []byte(xslt), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, []byte(strings.Replace(providerDomain, "%s", domainType, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xsltproc", style, doc).CombinedOutput()
	if err != nil {
		t.Fatalf("xsltproc (scripts/tools.sh installs it): %v\n%s", err, out)
	}
	return regexp.MustCompile(`>\s+<`).ReplaceAllString(string(out), "><")
}

func TestDomainStylesheet(t *testing.T) {
	got := transform(t, "qemu", domainXSLT("/var/log/libvirt/qemu/n-console.log", 2048))
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
		if got := transform(t, c.domainType, domainXSLT("", c.mib)); !strings.Contains(got, "<features><acpi/><apic/><pae/></features>") || strings.Contains(got, "<log") {
			t.Errorf("%s with a cache of %d MiB: %s", c.domainType, c.mib, got)
		}
	}
}
