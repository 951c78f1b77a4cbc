package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --ssh-key names a new file: a file already there (its mode would stay)
// and a symlink (the key would land at its target) are refused before
// anything is created, in one line naming the flag and the path, and
// neither they nor a symlink's target are touched.
func TestSSHKeyFileIsNeverOneAlreadyThere(t *testing.T) {
	dir := testProject(t, "")
	keys := t.TempDir()
	existing := filepath.Join(keys, "existing")
	must(t, os.WriteFile(existing, []byte("mine\n"), 0o644))
	target := filepath.Join(keys, "target")
	must(t, os.WriteFile(target, []byte("precious\n"), 0o644))
	link := filepath.Join(keys, "link")
	must(t, os.Symlink(target, link))
	dangling := filepath.Join(keys, "dangling")
	must(t, os.Symlink(filepath.Join(keys, "nowhere"), dangling))
	for _, path := range []string{existing, link, dangling} {
		var out bytes.Buffer
		o := options(dir, &fakeBackend{}, &fakeStack{}, &out)
		o.SSHKeyFile = path
		o.openStack = func(context.Context, Options) (Stack, error) {
			t.Errorf("%s: a stack was opened", path)
			return nil, errors.New("no")
		}
		_, err := Run(context.Background(), o)
		if err == nil || !strings.HasPrefix(err.Error(), "--ssh-key "+path+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming --ssh-key and the path", path, err)
		}
	}
	for path, want := range map[string]string{existing: "mine\n", target: "precious\n"} {
		if data, err := os.ReadFile(path); err != nil || string(data) != want {
			t.Errorf("%s now holds %q (%v), want it untouched", path, data, err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want it untouched", path, fi.Mode())
		}
	}
	if _, err := os.Lstat(filepath.Join(keys, "nowhere")); !os.IsNotExist(err) {
		t.Errorf("the dangling symlink's target was created: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); !os.IsNotExist(err) {
		t.Errorf("runs folder: %v", err)
	}
}

// A new --ssh-key file gets the run's key, readable by its owner only.
func TestSSHKeyFileIsCreatedPrivate(t *testing.T) {
	dir := testProject(t, "")
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}}
	var out bytes.Buffer
	o := options(dir, &fakeBackend{}, s, &out)
	o.SSHKeyFile = filepath.Join(t.TempDir(), "key")
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	fi, err := os.Stat(o.SSHKeyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v, want mode 0600", fi, err)
	}
	if data, _ := os.ReadFile(o.SSHKeyFile); !strings.Contains(string(data), "PRIVATE KEY") {
		t.Errorf("key file holds %q", data)
	}
}

// writeKeyFile refuses what appeared after the check, a symlink included.
func TestWriteKeyFileRefusesWhatAppeared(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	must(t, os.WriteFile(target, []byte("precious\n"), 0o644))
	link := filepath.Join(dir, "link")
	must(t, os.Symlink(target, link))
	if err := writeKeyFile(link, []byte("key")); err == nil || !strings.HasPrefix(err.Error(), "--ssh-key "+link+": ") {
		t.Errorf("error %v", err)
	}
	if data, _ := os.ReadFile(target); string(data) != "precious\n" {
		t.Errorf("target now holds %q", data)
	}
}
