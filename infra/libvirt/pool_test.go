package libvirt

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/infra/machine"
)

// poolPath refuses, naming the key, a path that is not absolute and clean
// or that is a system folder; a folder of the stack's own passes.
func TestPoolPaths(t *testing.T) {
	for _, ok := range []string{"/var/lib/libvirt/images/footprint-ci", "/srv/pools/fp/", "/data/footprint-ci", "/home/lab/pools/fp"} {
		if _, err := New("footprint-ci", `{"poolPath":"`+ok+`"}`); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for path, hint := range map[string]string{
		"/home": "system folder", "/root": "system folder", "/": "system folder", "//": "system folder",
		"/var/lib/libvirt/images": "system folder", "/tmp/": "system folder",
		"/var/lib/libvirt/images/../../../etc": "not a clean path", "/srv/./fp": "not a clean path", "/srv//fp": "not a clean path",
		"/etc": "inside the system folder /etc", "/etc/fp": "inside the system folder /etc", "/usr/local/fp": "inside the system folder /usr",
		"pools/fp": "absolute", "": "absolute",
	} {
		_, err := New("footprint-ci", `{"poolPath":"`+path+`"}`)
		if err == nil || !strings.HasPrefix(err.Error(), "footprint:libvirt.poolPath: ") || !strings.Contains(err.Error(), hint) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line naming the key and saying %q", path, err, hint)
		}
	}
}

func TestOwnVolumes(t *testing.T) {
	p := "footprint-ci"
	for _, v := range []string{BaseVolumeName(p), VolumeName(p + "-bare"), CloudInitName(p + "-k3s-2048m-r2"), ArtifactsVolumeName(p, "kubeadm"), VolumeName(p + "-artifacts")} {
		if !OwnVolume(p, v) {
			t.Errorf("%s is the stack's", v)
		}
	}
	for _, v := range []string{"alice.txt", "footprint-ci", "footprint-ci-", "footprint-ci-notes", "footprint-ci-bare.qcow2.bak", "footprint-ci-Bare.qcow2",
		"footprint-ci-docker-base.qcow2x", "footprint-cix-bare.qcow2", "ubuntu-24.04.qcow2", "footprint-ci-.iso", ".footprint-ci-bare.qcow2"} {
		if OwnVolume(p, v) {
			t.Errorf("%s is not the stack's", v)
		}
	}
}

// fakeVirsh puts on PATH a virsh that keeps its pools in state, each a
// folder of this machine, and acts on them as libvirt's dir pools do:
// vol-list lists every entry of the folder (as real virsh prints it, a
// name with a blank cut at the blank), vol-delete deletes whatever it is
// named, and pool-delete removes the folder only when it is empty.
func fakeVirsh(t *testing.T, pools map[string]string) {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	for name, dir := range pools {
		must(t, os.WriteFile(filepath.Join(state, name), []byte(dir), 0o644))
	}
	script := `#!/bin/sh
state=` + state + `
shift 3 # -q -c URI
cmd=$1; shift
dir() { cat "$state/$1" 2>/dev/null || { echo "error: failed to get pool '$1'" >&2; exit 1; }; }
case $cmd in
list|net-list) ;;
pool-list) ls "$state" ;;
pool-dumpxml) d=$(dir "$1") && printf "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>\n" "$1" "$d" ;;
vol-list) d=$(dir "$2") && ls -A "$d" | while IFS= read -r f; do printf ' %s   %s/%s\n' "$f" "$d" "$f"; done ;;
vol-delete) d=$(dir "$2") && if [ -e "$d/$3" ]; then rm -rf "$d/$3"; else echo "error: Storage volume not found: no storage vol with matching name '$3'" >&2; exit 1; fi ;;
pool-destroy) dir "$1" >/dev/null ;;
pool-delete) d=$(dir "$1") && rmdir "$d" 2>/dev/null || { echo "error: failed to remove pool '$d': Directory not empty" >&2; exit 1; } ;;
pool-undefine) dir "$1" >/dev/null && rm "$state/$1" ;;
*) echo "error: unknown command '$cmd'" >&2; exit 1 ;;
esac
`
	must(t, os.WriteFile(filepath.Join(bin, "virsh"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// A sweep deletes the volumes the stack's names make and nothing else
// its pool's folder holds; the folder, not empty, stays.
func TestSweepDeletesOnlyTheStacksVolumes(t *testing.T) {
	folder := filepath.Join(t.TempDir(), "footprint-ci")
	must(t, os.Mkdir(folder, 0o755))
	ours := []string{"footprint-ci-base.qcow2", "footprint-ci-bare.qcow2", "footprint-ci-bare-cloudinit.iso"}
	theirs := []string{"alice.txt", "footprint-ci-notes", "footprint-ci-bare.qcow2.bak", "my footprint-ci-bare.qcow2"}
	for _, f := range append(slices.Clone(ours), theirs...) {
		must(t, os.WriteFile(filepath.Join(folder, f), []byte(f), 0o644))
	}
	fakeVirsh(t, map[string]string{"footprint-ci": folder})
	b, err := New("footprint-ci", `{"poolPath":"`+folder+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	removed, err := b.Sweep(context.Background(), "footprint-ci", func(f string, a ...any) { logged = append(logged, f) })
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	for _, f := range ours {
		if _, err := os.Stat(filepath.Join(folder, f)); !os.IsNotExist(err) {
			t.Errorf("the stack's %s is still there (%v)", f, err)
		}
	}
	for _, f := range theirs {
		if data, err := os.ReadFile(filepath.Join(folder, f)); err != nil || string(data) != f {
			t.Errorf("%s was deleted or changed (%v); removed %v", f, err, removed)
		}
	}
}

// Before anything is created, the pool's folder must be the stack's to
// use: not another pool's, and here absent, empty, or holding only what
// the stack's names make.
func TestPreflightRefusesAFolderNotTheStacks(t *testing.T) {
	base := t.TempDir()
	env := machine.Environment{Prefix: "footprint-ci"}
	check := func(folder string, pools map[string]string) error {
		t.Helper()
		fakeVirsh(t, pools)
		b, err := New("footprint-ci", `{"poolPath":"`+folder+`"}`)
		if err != nil {
			t.Fatal(err)
		}
		return b.Preflight(context.Background(), env)
	}
	absent := filepath.Join(base, "absent")
	empty := filepath.Join(base, "empty")
	must(t, os.Mkdir(empty, 0o755))
	earlier := filepath.Join(base, "earlier")
	must(t, os.Mkdir(earlier, 0o755))
	must(t, os.WriteFile(filepath.Join(earlier, "footprint-ci-base.qcow2"), nil, 0o644))
	for _, ok := range []string{absent, empty, earlier} {
		if err := check(ok, map[string]string{"footprint-ci": ok, "default": "/var/lib/libvirt/images"}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	foreign := filepath.Join(base, "home")
	must(t, os.Mkdir(foreign, 0o755))
	must(t, os.WriteFile(filepath.Join(foreign, "alice.txt"), nil, 0o644))
	link := filepath.Join(base, "link")
	must(t, os.Symlink(empty, link))
	file := filepath.Join(base, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	for folder, hint := range map[string]string{
		foreign: `holds "alice.txt", which stack footprint-ci did not make`,
		link:    "is not a folder",
		file:    "is not a folder",
	} {
		err := check(folder, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "footprint:libvirt.poolPath: ") || !strings.Contains(err.Error(), hint) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming the key and saying %q", folder, err, hint)
		}
	}
	err := check(empty, map[string]string{"lab": empty})
	if err == nil || !strings.HasPrefix(err.Error(), "footprint:libvirt.poolPath: ") || !strings.Contains(err.Error(), `the folder of libvirt pool "lab"`) {
		t.Errorf("another pool's folder: %v", err)
	}
}
