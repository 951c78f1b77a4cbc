package libvirt

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/footprint-dev/footprint/names"
)

// systemFolders are folders a pool must never be: libvirt's dir pool adopts
// a folder as it is, lists every file in it as a volume, and deleting the
// pool removes the folder. libvirt's own default pool folder is one too.
var systemFolders = []string{"/", "/home", "/media", "/mnt", "/opt", "/root", "/srv", "/tmp",
	"/var", "/var/cache", "/var/lib", "/var/lib/libvirt", "/var/lib/libvirt/images", "/var/log", "/var/tmp"}

// systemTrees are trees of the operating system no pool belongs in.
var systemTrees = []string{"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
	"/proc", "/run", "/sbin", "/sys", "/usr"}

// checkPoolPath refuses a pool folder that is not absolute and clean, or
// that is a system folder; a trailing slash is harmless.
func checkPoolPath(v string) error {
	p := filepath.Clean(v)
	switch {
	case !filepath.IsAbs(v):
		return fmt.Errorf("%q must be an absolute path for the storage pool", v)
	case p != "/" && p != strings.TrimSuffix(v, "/"):
		return fmt.Errorf("%q is not a clean path (no \".\", \"..\" or \"//\"): write it as %q", v, p)
	}
	for _, s := range systemFolders {
		if p == s {
			return fmt.Errorf("%q is a system folder: name a folder of the stack's own, e.g. /var/lib/libvirt/images/footprint-STACK", v)
		}
	}
	for _, s := range systemTrees {
		if p == s || strings.HasPrefix(p, s+"/") {
			return fmt.Errorf("%q is inside the system folder %s: name a folder of the stack's own, e.g. /var/lib/libvirt/images/footprint-STACK", v, s)
		}
	}
	return nil
}

// OwnVolume tells whether a volume's name is one the stack with this
// prefix gives (BaseVolumeName, VolumeName, CloudInitName,
// ArtifactsVolumeName): a sweep deletes those and nothing else its pool's
// folder holds.
func OwnVolume(prefix, name string) bool {
	rest, ok := strings.CutPrefix(name, prefix+"-")
	if !ok {
		return false
	}
	if rest == "base.qcow2" {
		return true
	}
	for _, form := range []struct{ before, after string }{{"", "-cloudinit.iso"}, {"", ".qcow2"}, {"artifacts-", ".iso"}} {
		mid, ok := strings.CutPrefix(rest, form.before)
		if mid, cut := strings.CutSuffix(mid, form.after); ok && cut && names.CheckNode(mid) == nil {
			return true
		}
	}
	return false
}

// checkPool refuses, before anything is created, a pool folder that is
// not the stack's to use: another libvirt pool's folder, or on this
// machine a folder holding anything the stack did not make. (A remote
// host's folder cannot be read from here; there the sweep still deletes
// only the stack's volumes, and libvirt refuses to remove a folder that
// holds anything else.)
func (b Backend) checkPool(ctx context.Context, prefix string) error {
	pools, err := b.virsh().Pools(ctx)
	if err != nil {
		return fmt.Errorf("%s: listing the pools of %s: %w", key("poolPath"), b.URI, err)
	}
	for name, path := range pools {
		if name != PoolName(prefix) && filepath.Clean(path) == b.PoolPath {
			return fmt.Errorf("%s: %s is the folder of libvirt pool %q on %s: name a folder of the stack's own", key("poolPath"), b.PoolPath, name, b.URI)
		}
	}
	if !local(b.URI) {
		return nil
	}
	if err := checkPoolFolder(b.PoolPath, prefix); err != nil {
		return fmt.Errorf("%s: %w", key("poolPath"), err)
	}
	return nil
}

// checkPoolFolder accepts a folder that is absent (libvirt creates it),
// or a directory, not a link, holding only volumes the prefix names: an
// earlier run's, to resume or sweep.
func checkPoolFolder(path, prefix string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder (%s): name an absent or empty folder", path, fi.Mode().Type())
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("cannot check that %s holds only the stack's volumes: %w", path, err)
	}
	for _, e := range entries {
		if !OwnVolume(prefix, e.Name()) {
			return fmt.Errorf("%s holds %q, which stack %s did not make: name an absent or empty folder", path, e.Name(), prefix)
		}
	}
	return nil
}

// local tells whether the URI's libvirt runs on this machine, whose
// folders footprint then sees as libvirt does.
func local(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Host == ""
}

// Pools are the host's storage pools: name, and target folder.
func (v Virsh) Pools(ctx context.Context) (map[string]string, error) {
	list, err := v.names(ctx, "pool-list", "--all", "--name")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range list {
		doc, err := v.run(ctx, "pool-dumpxml", name)
		if err != nil {
			return nil, err
		}
		var p struct {
			Path string `xml:"target>path"`
		}
		if err := xml.Unmarshal([]byte(doc), &p); err != nil {
			return nil, fmt.Errorf("pool %s: %w", name, err)
		}
		out[name] = p.Path
	}
	return out, nil
}
