package image

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A pinned digest holds for the cached file's bytes: a cached file that
// changed after its download is not taken for the pinned image (a note
// beside it still saying the pinned digest), but fetched again.
func TestPinnedDigestIsCheckedAgainstTheCachedFile(t *testing.T) {
	img := rawDisk()
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			http.NotFound(w, r)
			return
		}
		gets.Add(1)
		w.Write(img)
	}))
	defer srv.Close()
	cache := t.TempDir()
	ref := srv.URL + "/pinned.img"
	r, err := Resolve(context.Background(), ref, digest(img), cache)
	if err != nil {
		t.Fatal(err)
	}
	changed := append([]byte(nil), img...)
	changed[0] = 0xeb
	if err := os.WriteFile(r.Path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.Path+".sha256", []byte(digest(img)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = Resolve(context.Background(), ref, digest(img), cache)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(r.Path); !bytes.Equal(data, img) || r.SHA256 != digest(img) || gets.Load() != 2 {
		t.Errorf("resolved %+v after %d downloads: the file is the pinned image: %v", r, gets.Load(), bytes.Equal(data, img))
	}
}

// Two downloads of one image at once each write a file of their own, and
// both end with the whole image in the cache and nothing partial left.
func TestConcurrentDownloadsShareNoFile(t *testing.T) {
	img := bytes.Repeat(rawDisk(), 64)
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			http.NotFound(w, r)
			return
		}
		half := len(img) / 2
		w.Write(img[:half])
		w.(http.Flusher).Flush()
		arrived.Done()
		select { // both downloads are under way before either ends
		case <-both:
		case <-time.After(10 * time.Second):
		}
		time.Sleep(200 * time.Millisecond)
		w.Write(img[half:])
	}))
	defer srv.Close()
	cache := t.TempDir()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			r, err := Resolve(context.Background(), srv.URL+"/shared.img", "", cache)
			if err == nil && r.SHA256 != digest(img) {
				err = os.ErrInvalid
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("a download: %v", err)
		}
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 || strings.Contains(entries[0].Name(), "partial") {
		t.Errorf("cache holds %v, want the image alone", entries)
	}
}

// A qcow2 image that names another file, a backing file or an external
// data file, is refused before qemu-img or QEMU would open that file.
func TestQcow2NamingAnotherFileIsRefused(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Fatal("qemu-img is not installed: run `make tools`")
	}
	dir := t.TempDir()
	qemuImg := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %v: %v %s", args, err, out)
		}
	}
	base := filepath.Join(dir, "base.qcow2")
	qemuImg("create", "-q", "-f", "qcow2", base, "64M")
	overlay := filepath.Join(dir, "overlay.qcow2")
	qemuImg("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay)
	external := filepath.Join(dir, "external.qcow2")
	qemuImg("create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), external, "64M")
	if _, err := Resolve(context.Background(), overlay, "", dir); err == nil || !strings.Contains(err.Error(), "with a backing file is refused") {
		t.Errorf("overlay: %v", err)
	}
	if _, err := Resolve(context.Background(), external, "", dir); err == nil || !strings.Contains(err.Error(), "with an external data file is refused") {
		t.Errorf("external data file: %v", err)
	}
	// Downloaded, the same.
	data, _ := os.ReadFile(overlay)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	if _, err := Resolve(context.Background(), srv.URL+"/overlay.img", "", t.TempDir()); err == nil || !strings.Contains(err.Error(), "with a backing file is refused") {
		t.Errorf("downloaded overlay: %v", err)
	}
	if r, err := Resolve(context.Background(), base, "", dir); err != nil || r.Format != "qcow2" {
		t.Errorf("the self-contained base: %+v %v", r, err)
	}
}
