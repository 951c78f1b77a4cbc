package artifacts

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDisk(t *testing.T) {
	for _, tool := range []string{"genisoimage", "isoinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (make tools installs genisoimage, which brings isoinfo)", tool)
		}
	}
	big := make([]byte, 3<<20+17) // several extents, not a multiple of the block size
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"bin/kubelet":      "#!/bin/sh\necho kubelet\n",
		"images/etcd.tar":  string(big),
		"images/a=b c.tar": "a name genisoimage must have escaped",
		"deep/er/than/most/" + strings.Repeat("long-name-", 9) + ".txt": "joliet-long",
	}
	dir := bundle(t, files, files)
	if err := os.WriteFile(filepath.Join(dir, "not-listed"), []byte("stays home"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "bin", "kubelet"), 0o755); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()

	// Concurrent calls for one folder: one disk, no temporary files left.
	var wg sync.WaitGroup
	got := make([]string, 3)
	errs := make([]error, 3)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = Disk(dir, cache)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("Disk: %v", errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("Disk gave %s and %s for one folder", got[0], got[i])
		}
	}
	iso := got[0]
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 || filepath.Join(cache, entries[0].Name()) != iso {
		t.Fatalf("cache holds %v, want only %s", entries, iso)
	}

	// The volume label, from the primary volume descriptor (sector 16).
	raw, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	pvd := raw[16*2048:]
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		t.Fatalf("no primary volume descriptor at sector 16")
	}
	if label := strings.TrimRight(string(pvd[40:72]), " "); label != Label {
		t.Fatalf("volume label %q, want %q", label, Label)
	}
	if len(raw) < len(big) {
		t.Fatalf("disk of %d bytes cannot hold a %d-byte file", len(raw), len(big))
	}

	// Read it back with Rock Ridge names: every listed file, SHA256SUMS,
	// and nothing else.
	out, err := exec.Command("isoinfo", "-R", "-f", "-i", iso).Output()
	if err != nil {
		t.Fatalf("isoinfo -f: %v", err)
	}
	var listed []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		listed = append(listed, strings.TrimPrefix(l, "/"))
	}
	for rel := range files {
		if !slices.Contains(listed, rel) {
			t.Errorf("%s is not on the disk (it has %v)", rel, listed)
		}
	}
	if !slices.Contains(listed, SumsFile) || slices.Contains(listed, "not-listed") {
		t.Errorf("disk holds %v: want SHA256SUMS and not the unlisted file", listed)
	}
	want := map[string]string{SumsFile: "", "bin/kubelet": files["bin/kubelet"], "images/etcd.tar": files["images/etcd.tar"], "images/a=b c.tar": files["images/a=b c.tar"]}
	want[SumsFile] = mustRead(t, filepath.Join(dir, SumsFile))
	for rel, content := range want {
		b, err := exec.Command("isoinfo", "-R", "-x", "/"+rel, "-i", iso).Output()
		if err != nil {
			t.Fatalf("isoinfo -x %s: %v", rel, err)
		}
		if !bytes.Equal(b, []byte(content)) {
			t.Errorf("%s on the disk differs from the folder's (%d bytes, want %d)", rel, len(b), len(content))
		}
	}
	// Rock Ridge modes: read-only for all, the executable stays executable.
	out, err = exec.Command("isoinfo", "-R", "-l", "-i", iso).Output()
	if err != nil {
		t.Fatalf("isoinfo -l: %v", err)
	}
	if !strings.Contains(string(out), "-r-xr-xr-x") {
		t.Errorf("the executable is not executable on the disk:\n%s", out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && len(f[0]) == 10 && strings.Contains(f[0], "w") {
			t.Errorf("writable on the disk: %s", l)
		}
	}
	// Joliet names are there too.
	out, err = exec.Command("isoinfo", "-J", "-f", "-i", iso).Output()
	if err != nil || !strings.Contains(string(out), "/bin/kubelet") {
		t.Errorf("isoinfo -J: %v\n%s", err, out)
	}

	// A second call returns the cached disk without rebuilding it.
	st, _ := os.Stat(iso)
	start := time.Now()
	again, err := Disk(dir, cache)
	if err != nil || again != iso {
		t.Fatalf("second Disk: %s, %v", again, err)
	}
	st2, _ := os.Stat(iso)
	if !st2.ModTime().Equal(st.ModTime()) || time.Since(start) > time.Second {
		t.Fatalf("second Disk rebuilt the disk")
	}

	// Another SHA256SUMS is another disk.
	if err := os.WriteFile(filepath.Join(dir, "bin", "kubelet"), []byte("v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	files["bin/kubelet"] = "v2"
	s := Sums{}
	for rel, content := range files {
		s.Entries = append(s.Entries, Entry{rel, sha(content)})
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), s.Format(), 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := Disk(dir, cache)
	if err != nil || other == iso {
		t.Fatalf("Disk after a change: %s, %v (first was %s)", other, err, iso)
	}
	b, err := exec.Command("isoinfo", "-R", "-x", "/bin/kubelet", "-i", other).Output()
	if err != nil || string(b) != "v2" {
		t.Fatalf("changed file on the new disk: %q, %v", b, err)
	}
}

func TestDiskRefusesAnIncompleteFolder(t *testing.T) {
	dir := bundle(t, map[string]string{"a": "1"}, map[string]string{"a": "1", "b/c": "2"})
	cache := t.TempDir()
	_, err := Disk(dir, cache)
	if err == nil || err.Error() != "disk of "+dir+": b/c is missing in "+dir {
		t.Fatalf("Disk: %v", err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Fatalf("cache holds %v after a failure", entries)
	}
	_, err = Disk(t.TempDir(), cache)
	if err == nil || !strings.Contains(err.Error(), "no SHA256SUMS") {
		t.Fatalf("Disk without SHA256SUMS: %v", err)
	}
}

func TestGenisoArgs(t *testing.T) {
	args := strings.Join(genisoArgs("/o.iso"), " ")
	for _, want := range []string{"-iso-level 3", "-V FPARTIFACTS", "-r", "-J", "-o /o.iso"} {
		if !strings.Contains(args, want) {
			t.Errorf("genisoimage %s lacks %s", args, want)
		}
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
