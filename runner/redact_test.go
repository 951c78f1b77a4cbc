package runner

import (
	"os"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
)

// What validate prints of a local backend's image never carries the URL's
// password or signature.
func TestWhereRedactsTheImageURL(t *testing.T) {
	exp, err := config.Parse(map[string]string{
		"image": "https://user:s3cret@images.example/noble.img?X-Amz-Signature=abc123", "profiles": "bare",
	}, config.Source{Project: "footprint", Stack: "t", ProjectDir: t.TempDir(), Backends: []string{"libvirt"}, DefaultBackend: "libvirt"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := infra.NewBackend(exp, "footprint-t")
	if err != nil {
		t.Fatal(err)
	}
	w := BackendText(&infra.Prepared{Experiment: exp, Prefix: "footprint-t", Backend: b})
	if strings.Contains(w, "s3cret") || strings.Contains(w, "abc123") || !strings.Contains(w, "images.example/noble.img") {
		t.Errorf("BackendText = %q", w)
	}
}

// A run folder is private from the moment it exists.
func TestNewRunDirIsPrivate(t *testing.T) {
	_, dir, err := newRunDir(t.TempDir(), "t")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("run folder mode %v, want 0700", st.Mode().Perm())
	}
}
