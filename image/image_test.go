package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// rawDisk is the smallest thing that passes as a raw disk: a boot sector.
func rawDisk() []byte {
	b := make([]byte, 4096)
	b[510], b[511] = 0x55, 0xaa
	return b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestLocalImage(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(p, rawDisk(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(context.Background(), p, "", dir)
	if err != nil || r.Path != p || r.Format != "raw" || r.SHA256 != digest(rawDisk()) {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := Resolve(context.Background(), p, strings.Repeat("0", 64), dir); err == nil || !strings.Contains(err.Error(), "footprint:imageSha256 expects") {
		t.Errorf("pinned digest mismatch: %v", err)
	}
}

func TestGarbageAndCorruptImagesAreRefused(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.img")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a disk ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(context.Background(), garbage, "", dir); err == nil || !strings.Contains(err.Error(), "neither a qcow2 image nor a raw disk") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Fatal("qemu-img is not installed: run `make tools`")
	}
	good := filepath.Join(dir, "good.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", good, "64M").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if r, err := Resolve(context.Background(), good, "", dir); err != nil || r.Format != "qcow2" {
		t.Fatalf("a fresh qcow2: %+v %v", r, err)
	}
	// A qcow2 whose L1 table points past the end of the file.
	data, _ := os.ReadFile(good)
	corrupt := filepath.Join(dir, "corrupt.qcow2")
	if err := os.WriteFile(corrupt, data[:200], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(context.Background(), corrupt, "", dir); err == nil || !strings.Contains(err.Error(), "corrupt qcow2 image") {
		t.Errorf("corrupt: %v", err)
	}
}

func TestDownloadOnceVerifiedAgainstPublishedSums(t *testing.T) {
	img := rawDisk()
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/release/SHA256SUMS":
			w.Write([]byte(digest(img) + " *noble-minimal.img\n" + strings.Repeat("1", 64) + " *other.img\n"))
		case "/release/noble-minimal.img":
			gets.Add(1)
			w.Write(img)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cache := t.TempDir()
	for i := 0; i < 2; i++ {
		r, err := Resolve(context.Background(), srv.URL+"/release/noble-minimal.img", "", cache)
		if err != nil {
			t.Fatal(err)
		}
		if r.SHA256 != digest(img) || !strings.HasSuffix(r.Verified, "/release/SHA256SUMS") || !strings.HasPrefix(r.Path, cache) {
			t.Errorf("%+v", r)
		}
	}
	if gets.Load() != 1 {
		t.Errorf("image fetched %d times, want once", gets.Load())
	}
}

func TestDownloadThatDoesNotMatchIsDiscarded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			w.Write([]byte(strings.Repeat("a", 64) + "  x.img\n"))
			return
		}
		w.Write(rawDisk())
	}))
	defer srv.Close()
	cache := t.TempDir()
	_, err := Resolve(context.Background(), srv.URL+"/x.img", "", cache)
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 0 {
		t.Errorf("a mismatching download was kept: %v", entries)
	}
}

func TestUnreachableImageSaysSoInOneLine(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/gone.img"
	srv.Close() // nothing listens any more
	_, err := Resolve(context.Background(), url, "", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "cannot be fetched") || !strings.Contains(err.Error(), "set footprint:image to a local file") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}
