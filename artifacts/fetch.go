package artifacts

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/footprint-dev/footprint/profiles"
)

// FetchOptions wire Fetch to its surroundings; the zero value downloads
// from the internet and logs nothing.
type FetchOptions struct {
	// Log is told one line per file.
	Log func(format string, args ...any)
	// Client downloads files and checksums; default: a retrying client.
	Client *retryablehttp.Client
	// Platform of the images; default linux/amd64, what the VMs run.
	Platform *v1.Platform
	// Remote adds options for the registries (the default keychain, as
	// `docker login` leaves it, is always used).
	Remote []remote.Option
	// Attempts bounds the downloads of one file whose body breaks off;
	// default 3. (Requests that fail or answer 5xx are retried by Client.)
	Attempts int
}

// maxChecksumBytes bounds a checksum file: a sums file of a whole release
// is a few hundred KiB.
const maxChecksumBytes = 8 << 20

// Fetch downloads the artifacts p declares, at version, into dir: each URL
// file verified against its published checksum (a mismatch is refused and
// nothing of it is left), each image saved as an image archive tagged with
// its reference (`docker load` and `ctr images import` read it; the
// registry client checks every blob's digest). It then writes
// dir/SHA256SUMS. A file already there whose digest matches is not fetched
// again. Errors name the profile and the artifact.
func Fetch(ctx context.Context, p profiles.Profile, version, dir string, o FetchOptions) error {
	o = fetchDefaults(o)
	if len(p.Artifacts) == 0 {
		return fmt.Errorf("%s: the profile declares no artifacts", p.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	// What an earlier run recorded: images are skipped only when the
	// archive is still the one it wrote.
	old, _ := ReadSums(dir)
	sums := Sums{Profile: p.Name, Version: version}
	for _, a := range p.Artifacts {
		dst := filepath.Join(dir, filepath.FromSlash(a.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("%s: %s: %w", p.Name, a.Path, err)
		}
		var sum string
		var err error
		if a.Image != "" {
			sum, err = fetchImage(ctx, o, Expand(a.Image, version), dst, old, a.Path, p.Name)
		} else {
			sum, err = fetchFile(ctx, o, Expand(a.URL, version), Expand(a.Checksum, version), dst, a.Path, p.Name)
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", p.Name, a.Path, err)
		}
		sums.Entries = append(sums.Entries, Entry{Path: a.Path, SHA256: sum})
	}
	// Files someone added to the bundle by hand (a MySQL image archive, for
	// example) stay listed while they are there and unchanged.
	for _, e := range old.Entries {
		if _, declared := sums.Lookup(e.Path); declared {
			continue
		}
		got, err := digest(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil || got != e.SHA256 {
			o.Log("%s: %s: no longer listed in %s (missing or changed since it was listed)", p.Name, e.Path, SumsFile)
			continue
		}
		sums.Entries = append(sums.Entries, e)
	}
	if err := writeAtomic(filepath.Join(dir, SumsFile), sums.Format()); err != nil {
		return fmt.Errorf("%s: %s: %w", p.Name, SumsFile, err)
	}
	o.Log("%s: wrote %s (%d files)", p.Name, filepath.Join(dir, SumsFile), len(sums.Entries))
	return nil
}

func fetchDefaults(o FetchOptions) FetchOptions {
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.Client == nil {
		c := retryablehttp.NewClient()
		c.Logger = nil
		c.RetryMax = 4
		c.HTTPClient.Timeout = 0 // files are large; the context bounds them
		o.Client = c
	}
	if o.Platform == nil {
		o.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	return o
}

func fetchFile(ctx context.Context, o FetchOptions, fileURL, sumURL, dst, rel, profile string) (string, error) {
	u, err := url.Parse(fileURL)
	if err != nil {
		return "", err
	}
	base, err := url.PathUnescape(path.Base(u.Path))
	if err != nil {
		base = path.Base(u.Path)
	}
	want, err := publishedSHA256(ctx, o.Client, sumURL, base)
	if err != nil {
		return "", fmt.Errorf("published checksum %s: %w", sumURL, err)
	}
	if got, err := hashFile(dst); err == nil && got == want {
		o.Log("%s: %s: present, sha256 matches %s (skipped)", profile, rel, sumURL)
		return want, nil
	}
	partial := dst + ".partial"
	var sum string
	var size int64
	for attempt := 1; ; attempt++ {
		sum, size, err = download(ctx, o.Client, fileURL, partial)
		var status httpStatus
		if err == nil || attempt >= o.Attempts || ctx.Err() != nil || errors.As(err, &status) {
			break
		}
	}
	if err != nil {
		os.Remove(partial)
		return "", fmt.Errorf("%s cannot be fetched: %w", fileURL, err)
	}
	if sum != want {
		os.Remove(partial)
		return "", fmt.Errorf("%s: sha256 %s does not match the published %s (%s); refused", fileURL, sum, want, sumURL)
	}
	if err := os.Rename(partial, dst); err != nil {
		os.Remove(partial)
		return "", err
	}
	o.Log("%s: %s: downloaded %s (%.1f MiB), sha256 matches %s", profile, rel, fileURL, float64(size)/(1<<20), sumURL)
	return sum, nil
}

type httpStatus struct{ status string }

func (e httpStatus) Error() string { return "HTTP " + e.status }

func get(ctx context.Context, client *retryablehttp.Client, u string) (*http.Response, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, httpStatus{resp.Status}
	}
	return resp, nil
}

// download streams u into dst, hashing on the way.
func download(ctx context.Context, client *retryablehttp.Client, u, dst string) (string, int64, error) {
	resp, err := get(ctx, client, u)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	f, err := os.Create(dst)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// publishedSHA256 reads a checksum file: the digest alone, or a sums file
// whose line for base holds it.
func publishedSHA256(ctx context.Context, client *retryablehttp.Client, sumURL, base string) (string, error) {
	resp, err := get(ctx, client, sumURL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxChecksumBytes))
	if err != nil {
		return "", err
	}
	return parseChecksum(string(body), base)
}

func parseChecksum(body, base string) (string, error) {
	if f := strings.Fields(body); len(f) == 1 {
		if d := strings.ToLower(f[0]); hexDigest.MatchString(d) {
			return d, nil
		}
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		listed := strings.TrimPrefix(f[1], "*")
		if (listed == base || path.Base(listed) == base) && hexDigest.MatchString(strings.ToLower(f[0])) {
			return strings.ToLower(f[0]), nil
		}
	}
	return "", fmt.Errorf("holds neither a sha256 digest alone nor a line for %s", base)
}

func fetchImage(ctx context.Context, o FetchOptions, refStr, dst string, old Sums, rel, profile string) (string, error) {
	ref, err := name.ParseReference(refStr)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", refStr, err)
	}
	opts := append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(*o.Platform),
	}, o.Remote...)
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("image %s cannot be fetched: %w", refStr, err)
	}
	want, err := tarball.ComputeManifest(map[name.Reference]v1.Image{ref: img})
	if err != nil {
		return "", fmt.Errorf("image %s: %w", refStr, err)
	}
	if listed, ok := old.Lookup(rel); ok {
		if got, err := hashFile(dst); err == nil && got == listed && sameArchive(dst, want) {
			o.Log("%s: %s: present, image %s unchanged and sha256 matches %s (skipped)", profile, rel, refStr, SumsFile)
			return got, nil
		}
	}
	partial := dst + ".partial"
	start := time.Now()
	if err := tarball.WriteToFile(partial, ref, img); err != nil {
		os.Remove(partial)
		return "", fmt.Errorf("image %s cannot be saved: %w", refStr, err)
	}
	sum, err := hashFile(partial)
	if err == nil {
		err = os.Rename(partial, dst)
	}
	if err != nil {
		os.Remove(partial)
		return "", err
	}
	size := int64(0)
	if st, err := os.Stat(dst); err == nil {
		size = st.Size()
	}
	o.Log("%s: %s: saved image %s (%.1f MiB, config %s) in %.0f s", profile, rel, refStr,
		float64(size)/(1<<20), want[0].Config, time.Since(start).Seconds())
	return sum, nil
}

// sameArchive tells whether the archive at p holds the image the registry
// serves now, under the same tag.
func sameArchive(p string, want tarball.Manifest) bool {
	have, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(p) })
	if err != nil || len(have) != 1 || len(want) != 1 {
		return false
	}
	return have[0].Config == want[0].Config && slices.Equal(have[0].RepoTags, want[0].RepoTags) &&
		slices.Equal(have[0].Layers, want[0].Layers)
}

func writeAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}
