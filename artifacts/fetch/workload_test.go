package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/profiles"
)

// The stack's workload image is saved at images/workload.tar of every
// profile with a workload hook, listed in SHA256SUMS, kept when unchanged,
// and copied rather than downloaded again for the next profile.
func TestFetchWorkloadImage(t *testing.T) {
	tool := "tool"
	srv := &files{bodies: map[string]string{"/tool": tool, "/tool.sha256": sha(tool)}, requests: map[string]int{}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	reg, blobsServed := registryServer(t)
	host := strings.TrimPrefix(reg.URL, "http://")
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/library/mysql:8.4"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	layerServed := func(since int) bool {
		for _, b := range blobsServed()[since:] {
			for _, l := range layers {
				if d, _ := l.Digest(); d.String() == b {
					return true
				}
			}
		}
		return false
	}

	profile := func(name string, workload bool) profiles.Profile {
		p := profiles.Profile{
			Name:      name,
			Hooks:     map[string]string{profiles.HookInstallOffline: "true"},
			Artifacts: []profiles.Artifact{{Path: "tool", URL: hs.URL + "/tool", Checksum: hs.URL + "/tool.sha256"}},
		}
		if workload {
			p.Hooks[profiles.HookWorkload] = "k8s_workload"
		}
		return p
	}
	root := t.TempDir()
	var lines []string
	opts := Options{Client: testClient(), WorkloadImage: ref, Log: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }}
	fetch := func(p profiles.Profile) string {
		t.Helper()
		lines = nil
		dir := filepath.Join(root, p.Name)
		if err := Run(context.Background(), p, "v1", dir, opts); err != nil {
			t.Fatalf("Fetch %s: %v", p.Name, err)
		}
		if err := artifacts.Verify(dir, p); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		return dir
	}
	listed := func(dir string) (string, bool) {
		t.Helper()
		sums, err := artifacts.ReadSums(dir)
		if err != nil {
			t.Fatal(err)
		}
		return sums.Lookup(WorkloadArchive)
	}

	// The first profile downloads it, as an archive tagged with the reference.
	a := fetch(profile("fpk8s-a", true))
	archive := filepath.Join(a, filepath.FromSlash(WorkloadArchive))
	back, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatal(err)
	}
	assertSameImage(t, img, back)
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(archive) })
	if err != nil || len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != tag.String() {
		t.Fatalf("archive manifest %+v, %v: want one image tagged %s", m, err, tag)
	}
	digestA, ok := listed(a)
	if !ok || digestA != sha(mustRead(t, archive)) {
		t.Fatalf("%s listed as %q (%v)", WorkloadArchive, digestA, ok)
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "fpk8s-a: images/workload.tar: saved image "+ref) {
		t.Errorf("log:\n%s", strings.Join(lines, "\n"))
	}

	// A second fetch keeps it.
	served := len(blobsServed())
	fetch(profile("fpk8s-a", true))
	if layerServed(served) || !strings.Contains(lines[1], "(skipped)") {
		t.Errorf("the second fetch downloaded the image again:\n%s", strings.Join(lines, "\n"))
	}

	// The next profile gets a copy, not another download.
	served = len(blobsServed())
	b := fetch(profile("fpk8s-b", true))
	if layerServed(served) || !strings.Contains(lines[1], "copied from "+archive) {
		t.Errorf("the second profile downloaded the image again:\n%s", strings.Join(lines, "\n"))
	}
	if d, ok := listed(b); !ok || d != digestA || sha(mustRead(t, filepath.Join(b, filepath.FromSlash(WorkloadArchive)))) != d {
		t.Errorf("fpk8s-b: %s listed as %q (%v), want %s", WorkloadArchive, d, ok, digestA)
	}

	// A profile without a workload hook gets none.
	c := fetch(profile("fpbare", false))
	if _, ok := listed(c); ok {
		t.Error("a profile without a workload hook got the workload image")
	}
	if _, err := os.Stat(filepath.Join(c, "images")); !os.IsNotExist(err) {
		t.Errorf("images/ was created: %v", err)
	}

	// A changed image (the tag moved) is downloaded again, not copied.
	img2, _ := random.Image(1024, 1)
	if err := remote.Write(tag, img2); err != nil {
		t.Fatal(err)
	}
	fetch(profile("fpk8s-b", true))
	if !strings.Contains(lines[1], "saved image "+ref) {
		t.Errorf("a moved tag was not downloaded again:\n%s", strings.Join(lines, "\n"))
	}
	back, err = tarball.ImageFromPath(filepath.Join(b, filepath.FromSlash(WorkloadArchive)), &tag)
	if err != nil {
		t.Fatal(err)
	}
	assertSameImage(t, img2, back)

	// A profile may not declare the workload image's path itself.
	p := profile("fpclash", true)
	p.Artifacts = append(p.Artifacts, profiles.Artifact{Path: WorkloadArchive, Image: ref})
	err = Run(context.Background(), p, "v1", filepath.Join(root, "fpclash"), opts)
	if err == nil || !strings.HasPrefix(err.Error(), "fpclash: images/workload.tar: the profile declares the path where the workload image") {
		t.Fatalf("error: %v", err)
	}
}
