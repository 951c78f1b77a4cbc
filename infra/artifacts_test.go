package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/profiles"
)

// kubeadmFolder is a complete offline folder for the kubeadm profile: every
// required artifact (small stand-in files) and their SHA256SUMS.
func kubeadmFolder(t *testing.T) string {
	t.Helper()
	p, ok := profiles.Get("kubeadm")
	if !ok {
		t.Fatal("no kubeadm profile")
	}
	dir := t.TempDir()
	var sums strings.Builder
	for _, a := range p.Artifacts {
		if a.Optional {
			continue
		}
		data := []byte("stand-in for " + a.Path + "\n")
		path := filepath.Join(dir, a.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), a.Path)
	}
	if err := os.WriteFile(filepath.Join(dir, artifacts.SumsFile), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A profile with an offline install gets one read-only artifacts volume,
// shared by its nodes and attached to nobody else's; its agents are told
// the disk's label.
func TestOfflineProfileGetsItsReadOnlyArtifactsDisk(t *testing.T) {
	t.Setenv("FOOTPRINT_CACHE", t.TempDir())
	folder := kubeadmFolder(t)
	m, _ := runProgram(t, "offline", map[string]string{
		"footprint:profiles":       `["bare","kubeadm"]`,
		"footprint:memorySizesMiB": "[1024,2048]",
		"footprint:artifacts":      fmt.Sprintf(`{"kubeadm":%q}`, folder),
		"footprint:mysqlPassword":  "a-test-password-1234",
	})
	var disk registered
	for _, v := range m.ofType("libvirt:index/volume:Volume") {
		if strings.Contains(str(v, "name"), "-artifacts-") {
			if disk.name != "" {
				t.Fatalf("two artifacts volumes: %s and %s", disk.name, v.name)
			}
			disk = v
		}
	}
	if str(disk, "name") != "footprint-offline-artifacts-kubeadm.iso" || str(disk, "format") != "raw" {
		t.Fatalf("artifacts volume %q format %q", str(disk, "name"), str(disk, "format"))
	}
	if _, err := os.Stat(str(disk, "source")); err != nil || !strings.HasSuffix(str(disk, "source"), ".iso") {
		t.Errorf("the volume's source %q is not the ISO made of the folder: %v", str(disk, "source"), err)
	}
	domains := m.ofType("libvirt:index/domain:Domain")
	if len(domains) != 4 {
		t.Fatalf("%d domains, want 4", len(domains))
	}
	for _, d := range domains {
		disks := d.inputs["disks"].ArrayValue()
		offline := strings.Contains(d.name, "-kubeadm-")
		want := 1
		if offline {
			want = 2
		}
		if len(disks) != want {
			t.Errorf("%s: %d disks, want %d", d.name, len(disks), want)
			continue
		}
		if offline && disks[1].ObjectValue()[resource.PropertyKey("volumeId")].StringValue() != disk.name+"-id" {
			t.Errorf("%s: second disk %v is not the artifacts volume", d.name, disks[1])
		}
		xslt := d.inputs["xml"].ObjectValue()["xslt"].StringValue()
		if offline != strings.Contains(xslt, "<readonly/>") || offline != strings.Contains(xslt, "'/"+disk.name+"'") {
			t.Errorf("%s: the domain XSLT does not make the artifacts disk alone read-only:\n%s", d.name, xslt)
		}
	}
	for _, ci := range m.ofType("libvirt:index/cloudInitDisk:CloudInitDisk") {
		label := "ARTIFACTS_LABEL=''"
		if strings.Contains(ci.name, "-kubeadm-") {
			label = "ARTIFACTS_LABEL='" + artifacts.Label + "'"
		}
		if !strings.Contains(str(ci, "userData"), label) {
			t.Errorf("%s: user-data lacks %s", ci.name, label)
		}
	}
}

// A stack whose name holds "-artifacts-" keeps its boot disks writable: the
// domain XSLT names the artifacts volume of the node, or none.
func TestStackNamedArtifactsKeepsBootDisksWritable(t *testing.T) {
	t.Setenv("FOOTPRINT_CACHE", t.TempDir())
	m, _ := runProgram(t, "my-artifacts-lab", map[string]string{
		"footprint:profiles":      `["bare","kubeadm"]`,
		"footprint:artifacts":     fmt.Sprintf(`{"kubeadm":%q}`, kubeadmFolder(t)),
		"footprint:mysqlPassword": "a-test-password-1234",
	})
	domains := m.ofType("libvirt:index/domain:Domain")
	if len(domains) != 2 {
		t.Fatalf("%d domains, want 2", len(domains))
	}
	for _, d := range domains {
		xslt := d.inputs["xml"].ObjectValue()["xslt"].StringValue()
		readonly := strings.Count(xslt, "<readonly/>")
		switch d.name {
		case "footprint-my-artifacts-lab-bare":
			if readonly != 0 {
				t.Errorf("%s has no artifacts disk, yet its XSLT makes a disk read-only:\n%s", d.name, xslt)
			}
		case "footprint-my-artifacts-lab-kubeadm":
			if readonly != 1 || !strings.Contains(xslt, "@volume = 'footprint-my-artifacts-lab-artifacts-kubeadm.iso'") {
				t.Errorf("%s: the XSLT does not single out its artifacts volume:\n%s", d.name, xslt)
			}
		default:
			t.Errorf("unexpected domain %s", d.name)
		}
	}
}
