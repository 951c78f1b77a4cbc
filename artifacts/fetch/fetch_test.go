package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/profiles"
)

// files is a release server: paths to bodies, counting requests, with a
// file that fails once with 500 and one whose first body breaks off.
type files struct {
	mu       sync.Mutex
	bodies   map[string]string
	requests map[string]int
	fail500  map[string]bool // first request answers 500
	truncate map[string]bool // first request breaks off mid-body
}

func (f *files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests[r.URL.Path]++
	n := f.requests[r.URL.Path]
	body, ok := f.bodies[r.URL.Path]
	f.mu.Unlock()
	switch {
	case !ok:
		http.NotFound(w, r)
	case n == 1 && f.fail500[r.URL.Path]:
		http.Error(w, "try again", http.StatusInternalServerError)
	case n == 1 && f.truncate[r.URL.Path]:
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body[:len(body)/2])
	default:
		io.WriteString(w, body)
	}
}

func (f *files) count(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[p]
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testClient() *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.Logger = nil
	c.RetryWaitMin, c.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	return c
}

// registryServer is an in-memory registry on 127.0.0.1 recording the blobs
// it serves.
func registryServer(t *testing.T) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var blobs []string
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, digest, ok := strings.Cut(r.URL.Path, "/blobs/"); ok && r.Method == http.MethodGet {
			mu.Lock()
			blobs = append(blobs, digest)
			mu.Unlock()
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), blobs...)
	}
}

func TestFetch(t *testing.T) {
	const version = "v1.2.3"
	tool, data, flaky, cut := "the tool binary", strings.Repeat("data", 5000), "flaky but fine", strings.Repeat("cut", 3000)
	srv := &files{
		bodies: map[string]string{
			"/rel/v1.2.3/tool":          tool,
			"/rel/v1.2.3/SHA256SUMS":    sha("other") + "  other\n" + sha(tool) + "  tool\n",
			"/dl/1.2.3/data.tar":        data,
			"/dl/1.2.3/data.tar.sha256": sha(data) + "\n",
			"/flaky/flaky.bin":          flaky,
			"/flaky/flaky.bin.sha256":   sha(flaky) + " *flaky.bin\n",
			"/cut/cut.bin":              cut,
			"/cut/cut.bin.sha256":       sha(cut),
		},
		requests: map[string]int{},
		fail500:  map[string]bool{"/flaky/flaky.bin": true},
		truncate: map[string]bool{"/cut/cut.bin": true},
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	reg, blobsServed := registryServer(t)

	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(reg.URL, "http://")
	tag, err := name.NewTag(host + "/footprint/app:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}

	p := profiles.Profile{
		Name:  "fptest",
		Hooks: map[string]string{profiles.HookInstallOffline: "true"},
		Artifacts: []profiles.Artifact{
			{Path: "bin/tool", URL: hs.URL + "/rel/{version}/tool", Checksum: hs.URL + "/rel/{version}/SHA256SUMS"},
			{Path: "data.tar", URL: hs.URL + "/dl/{versionNoV}/data.tar", Checksum: hs.URL + "/dl/{versionNoV}/data.tar.sha256"},
			{Path: "flaky.bin", URL: hs.URL + "/flaky/flaky.bin", Checksum: hs.URL + "/flaky/flaky.bin.sha256"},
			{Path: "cut.bin", URL: hs.URL + "/cut/cut.bin", Checksum: hs.URL + "/cut/cut.bin.sha256"},
			{Path: "images/app.tar", Image: host + "/footprint/app:{versionNoV}"},
		},
	}
	dir := filepath.Join(t.TempDir(), "fptest")
	var lines []string
	opts := Options{Client: testClient(), Log: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }}
	if err := Run(context.Background(), p, version, dir, opts); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	for rel, want := range map[string]string{"bin/tool": tool, "data.tar": data, "flaky.bin": flaky, "cut.bin": cut} {
		if got := mustRead(t, filepath.Join(dir, rel)); got != want {
			t.Errorf("%s: %d bytes, want %d", rel, len(got), len(want))
		}
	}
	if n := srv.count("/flaky/flaky.bin"); n != 2 {
		t.Errorf("flaky.bin was requested %d times, want 2 (500, then OK)", n)
	}
	if n := srv.count("/cut/cut.bin"); n != 2 {
		t.Errorf("cut.bin was requested %d times, want 2 (broken off, then whole)", n)
	}
	if len(lines) != len(p.Artifacts)+1 {
		t.Errorf("want one line per file and one for SHA256SUMS, got:\n%s", strings.Join(lines, "\n"))
	}
	for i, a := range p.Artifacts {
		if !strings.HasPrefix(lines[i], "fptest: "+a.Path+": ") {
			t.Errorf("line %d %q does not name fptest: %s", i, lines[i], a.Path)
		}
	}

	// The archive is the pushed image, tagged with its reference.
	archive := filepath.Join(dir, "images", "app.tar")
	back, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatalf("reading the archive back: %v", err)
	}
	assertSameImage(t, img, back)
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(archive) })
	if err != nil || len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != tag.String() {
		t.Fatalf("archive manifest %+v, %v: want one image tagged %s", m, err, tag)
	}

	// SHA256SUMS covers everything and the folder passes the pre-flight.
	sums, err := artifacts.ReadSums(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums.Entries) != len(p.Artifacts) || sums.Profile != "fptest" || sums.Version != version {
		t.Fatalf("SHA256SUMS: %+v", sums)
	}
	if d, _ := sums.Lookup("bin/tool"); d != sha(tool) {
		t.Errorf("bin/tool listed as %s", d)
	}
	if err := artifacts.VerifyVersion(dir, p, version); err != nil {
		t.Fatalf("the fetched folder fails verification: %v", err)
	}

	// A second run fetches nothing again, and keeps a file added by hand.
	if err := os.WriteFile(filepath.Join(dir, "images", "mysql.tar"), []byte("mysql"), 0o644); err != nil {
		t.Fatal(err)
	}
	sums.Entries = append(sums.Entries, artifacts.Entry{Path: "images/mysql.tar", SHA256: sha("mysql")})
	if err := os.WriteFile(filepath.Join(dir, artifacts.SumsFile), sums.Format(), 0o644); err != nil {
		t.Fatal(err)
	}
	served := len(blobsServed())
	lines = nil
	if err := Run(context.Background(), p, version, dir, opts); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if srv.count("/rel/v1.2.3/tool") != 1 || srv.count("/dl/1.2.3/data.tar") != 1 || srv.count("/flaky/flaky.bin") != 2 {
		t.Errorf("second run downloaded again: %v", srv.requests)
	}
	layers, _ := img.Layers()
	for _, b := range blobsServed()[served:] {
		for _, l := range layers {
			if d, _ := l.Digest(); d.String() == b {
				t.Errorf("second run read layer %s from the registry", b)
			}
		}
	}
	for _, l := range lines[:len(p.Artifacts)] {
		if !strings.Contains(l, "(skipped)") {
			t.Errorf("second run: %q", l)
		}
	}
	if sums, _ := artifacts.ReadSums(dir); len(sums.Entries) != len(p.Artifacts)+1 {
		t.Errorf("the file added by hand was dropped: %+v", sums.Entries)
	}
	if err := artifacts.Verify(dir, p); err != nil {
		t.Fatal(err)
	}

	// A changed image is fetched again.
	img2, _ := random.Image(1024, 1)
	if err := remote.Write(tag, img2); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), p, version, dir, opts); err != nil {
		t.Fatal(err)
	}
	back, err = tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatal(err)
	}
	assertSameImage(t, img2, back)
}

func assertSameImage(t *testing.T, want, got v1.Image) {
	t.Helper()
	wd, err := want.Digest()
	if err != nil {
		t.Fatal(err)
	}
	gd, err := got.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if wd != gd {
		t.Fatalf("archive image digest %s, pushed %s", gd, wd)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers { // the layer bodies are there and match
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("layer: %v", err)
		}
		rc.Close()
	}
}

func TestFetchRefusesAMismatch(t *testing.T) {
	good, bad := "good", "tampered in transit"
	srv := &files{
		bodies: map[string]string{
			"/good":        good,
			"/good.sha256": sha(good),
			"/bad.bin":     bad,
			"/SHA256SUMS":  sha("what was published") + "  bad.bin\n",
		},
		requests: map[string]int{},
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	p := profiles.Profile{
		Name: "fpbad",
		Artifacts: []profiles.Artifact{
			{Path: "good", URL: hs.URL + "/good", Checksum: hs.URL + "/good.sha256"},
			{Path: "sub/bad.bin", URL: hs.URL + "/bad.bin", Checksum: hs.URL + "/SHA256SUMS"},
		},
	}
	dir := t.TempDir()
	err := Run(context.Background(), p, "v1", dir, Options{Client: testClient()})
	if err == nil {
		t.Fatal("Fetch accepted a file that does not match its published checksum")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "fpbad: sub/bad.bin: ") || !strings.Contains(msg, "does not match the published "+sha("what was published")) ||
		strings.Contains(msg, "\n") {
		t.Fatalf("error: %s", msg)
	}
	for _, gone := range []string{"sub/bad.bin", "sub/bad.bin.partial", artifacts.SumsFile} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s is left after the refusal", gone)
		}
	}

	// A checksum that cannot be read, and a missing file, name the artifact too.
	p.Artifacts = []profiles.Artifact{{Path: "x", URL: hs.URL + "/good", Checksum: hs.URL + "/nothing.sha256"}}
	err = Run(context.Background(), p, "v1", dir, Options{Client: testClient()})
	if err == nil || !strings.HasPrefix(err.Error(), "fpbad: x: published checksum "+hs.URL+"/nothing.sha256: HTTP 404") {
		t.Fatalf("error: %v", err)
	}
	p.Artifacts = []profiles.Artifact{{Path: "y", URL: hs.URL + "/absent", Checksum: hs.URL + "/good.sha256"}}
	err = Run(context.Background(), p, "v1", dir, Options{Client: testClient()})
	if err == nil || !strings.HasPrefix(err.Error(), "fpbad: y: "+hs.URL+"/absent cannot be fetched: HTTP 404") {
		t.Fatalf("error: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "y.partial")); !os.IsNotExist(err) {
		t.Errorf("y.partial is left")
	}
}

func TestParseChecksum(t *testing.T) {
	d := sha("x")
	for body, ok := range map[string]bool{
		d:                         true,
		strings.ToUpper(d) + "\n": true,
		sha("y") + "  k3s\n" + d + "  k3s-airgap-images-amd64.tar.zst\n": true,
		d + " *k3s-airgap-images-amd64.tar.zst":                          true,
		d + "  ./dist/k3s-airgap-images-amd64.tar.zst":                   true,
		d + "  k3s\n":            false,
		"<html>not found</html>": false,
		"":                       false,
	} {
		got, err := parseChecksum(body, "k3s-airgap-images-amd64.tar.zst")
		if ok && (err != nil || got != d) {
			t.Errorf("parseChecksum(%q) = %s, %v", body, got, err)
		}
		if !ok && err == nil {
			t.Errorf("parseChecksum(%q) = %s, want an error", body, got)
		}
	}
}
