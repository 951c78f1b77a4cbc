// Package fetch is `footprint artifacts fetch`: on a connected machine it
// fills a profile's artifacts folder with the files of its offline install,
// each checked against its published checksum, and writes the folder's
// SHA256SUMS (see package artifacts). Only the command links it: the Pulumi
// program verifies folders with package artifacts and never downloads, so
// the container-registry client here stays out of its dependencies.
package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/image"
	"github.com/footprint-dev/footprint/internal/redact"
	"github.com/footprint-dev/footprint/internal/stall"
	"github.com/footprint-dev/footprint/profiles"
)

// Options wire Run to its surroundings; the zero value downloads
// from the internet and logs nothing.
type Options struct {
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
	// WorkloadImage is the stack's footprint:workloadImage. When set, a
	// profile with a workload hook also gets it, saved as WorkloadArchive:
	// an offline node has no registry to pull it from, and no profile can
	// declare it (it is a stack setting).
	WorkloadImage string
}

// WorkloadArchive is where Run saves Options.WorkloadImage in a
// profile's folder. It is listed in SHA256SUMS, not declared by the
// profile: the installOffline hooks load every image archive under images/.
const WorkloadArchive = "images/workload.tar"

// stallAfter ends a download from which no byte arrived for so long: a
// healthy release server is never silent for a minute.
var stallAfter = time.Minute

// hexDigest is a sha256 digest as a checksum file gives it, lower-cased.
var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// maxChecksumBytes bounds a checksum file: a sums file of a whole release
// is a few hundred KiB.
const maxChecksumBytes = 8 << 20

// Run downloads the artifacts p declares, at version, into dir: each URL
// file verified against its published checksum (a mismatch is refused and
// nothing of it is left), each image saved as an image archive tagged with
// its reference (`docker load` and `ctr images import` read it; the
// registry client checks every blob's digest). It then writes
// dir/SHA256SUMS. A file already there whose digest matches is not fetched
// again. A snap: artifact is fetched with `snap download` (see snapDownloads.fetch);
// with o.WorkloadImage, a profile that has a workload hook also gets that
// image at WorkloadArchive. Errors name the profile and the artifact.
func Run(ctx context.Context, p profiles.Profile, version, dir string, o Options) error {
	o = fetchDefaults(o)
	if len(p.Artifacts) == 0 {
		return fmt.Errorf("%s: the profile declares no artifacts", p.Name)
	}
	workload := o.WorkloadImage != "" && p.Hooks[profiles.HookWorkload] != ""
	// Refused before anything is downloaded: a missing snap command, and a
	// profile whose own artifact would sit where the workload image goes.
	for _, a := range p.Artifacts {
		if IsSnapURL(a.URL) {
			if _, err := exec.LookPath("snap"); err != nil {
				return fmt.Errorf("%s: %s: `%s` needs snapd's snap command, which is not on this machine's PATH: "+
					"install snapd (https://snapcraft.io/docs/installing-snapd) or fetch on a machine that has it",
					p.Name, a.Path, snapCommand(artifacts.Expand(a.URL, version)))
			}
		}
		if workload && a.Path == WorkloadArchive {
			return fmt.Errorf("%s: %s: the profile declares the path where the workload image %s goes", p.Name, a.Path, o.WorkloadImage)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	// What an earlier run recorded: images are skipped only when the
	// archive is still the one it wrote.
	old, _ := artifacts.ReadSums(dir)
	sums := artifacts.Sums{Profile: p.Name, Version: version}
	snaps := &snapDownloads{dir: dir, got: map[snapRef]*snapFiles{}}
	defer snaps.cleanup()
	for _, a := range p.Artifacts {
		dst := filepath.Join(dir, filepath.FromSlash(a.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("%s: %s: %w", p.Name, a.Path, err)
		}
		var sum string
		var err error
		switch {
		case a.Image != "":
			sum, err = fetchImage(ctx, o, artifacts.Expand(a.Image, version), dst, old, a.Path, p.Name)
		case IsSnapURL(a.URL):
			sum, err = snaps.fetch(ctx, o, artifacts.Expand(a.URL, version), dst, a.Path, p.Name)
		default:
			sum, err = fetchFile(ctx, o, artifacts.Expand(a.URL, version), artifacts.Expand(a.Checksum, version), dst, a.Path, p.Name)
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", p.Name, a.Path, err)
		}
		sums.Entries = append(sums.Entries, artifacts.Entry{Path: a.Path, SHA256: sum})
	}
	if workload {
		dst := filepath.Join(dir, filepath.FromSlash(WorkloadArchive))
		err := os.MkdirAll(filepath.Dir(dst), 0o755)
		var sum string
		if err == nil {
			sum, err = fetchImage(ctx, o, o.WorkloadImage, dst, old, WorkloadArchive, p.Name)
		}
		if err != nil {
			return fmt.Errorf("%s: %s (the workload image): %w", p.Name, WorkloadArchive, err)
		}
		sums.Entries = append(sums.Entries, artifacts.Entry{Path: WorkloadArchive, SHA256: sum})
	}
	// Files someone added to the bundle by hand (another image archive, for
	// example) stay listed while they are there and unchanged.
	for _, e := range old.Entries {
		if _, declared := sums.Lookup(e.Path); declared {
			continue
		}
		got, err := image.FileSHA256(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil || got != e.SHA256 {
			o.Log("%s: %s: no longer listed in %s (missing or changed since it was listed)", p.Name, e.Path, artifacts.SumsFile)
			continue
		}
		sums.Entries = append(sums.Entries, e)
	}
	if err := writeAtomic(filepath.Join(dir, artifacts.SumsFile), sums.Format()); err != nil {
		return fmt.Errorf("%s: %s: %w", p.Name, artifacts.SumsFile, err)
	}
	o.Log("%s: wrote %s (%d files)", p.Name, filepath.Join(dir, artifacts.SumsFile), len(sums.Entries))
	return nil
}

func fetchDefaults(o Options) Options {
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

func fetchFile(ctx context.Context, o Options, fileURL, sumURL, dst, rel, profile string) (string, error) {
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
		return "", fmt.Errorf("published checksum %s: %w", redact.URL(sumURL), err)
	}
	if got, err := image.FileSHA256(dst); err == nil && got == want {
		o.Log("%s: %s: present, sha256 matches %s (skipped)", profile, rel, redact.URL(sumURL))
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
		return "", fmt.Errorf("%s cannot be fetched: %w", redact.URL(fileURL), redact.Error(err))
	}
	if sum != want {
		os.Remove(partial)
		return "", fmt.Errorf("%s: sha256 %s does not match the published %s (%s); refused", redact.URL(fileURL), sum, want, redact.URL(sumURL))
	}
	if err := os.Rename(partial, dst); err != nil {
		os.Remove(partial)
		return "", err
	}
	o.Log("%s: %s: downloaded %s (%.1f MiB), sha256 matches %s", profile, rel, redact.URL(fileURL), float64(size)/(1<<20), redact.URL(sumURL))
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

// download streams u into dst, hashing on the way; it fails when u sends
// nothing for stallAfter.
func download(ctx context.Context, client *retryablehttp.Client, u, dst string) (string, int64, error) {
	watch := stall.New(ctx, u, stallAfter)
	defer watch.Stop()
	sum, n, err := save(watch, client, u, dst)
	return sum, n, watch.Err(err)
}

// save is download's transfer, under watch.
func save(watch *stall.Watch, client *retryablehttp.Client, u, dst string) (string, int64, error) {
	resp, err := get(watch.Context(), client, u)
	if err != nil {
		return "", 0, err
	}
	body := watch.Body(resp.Body)
	defer body.Close()
	f, err := os.Create(dst)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
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
	watch := stall.New(ctx, sumURL, stallAfter)
	defer watch.Stop()
	resp, err := get(watch.Context(), client, sumURL)
	if err != nil {
		return "", watch.Err(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(watch.Body(resp.Body), maxChecksumBytes))
	if err != nil {
		return "", watch.Err(err)
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

func fetchImage(ctx context.Context, o Options, refStr, dst string, old artifacts.Sums, rel, profile string) (string, error) {
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
	key := archiveKey(want)
	if listed, ok := old.Lookup(rel); ok {
		if got, err := image.FileSHA256(dst); err == nil && got == listed && sameArchive(dst, want) {
			savedArchives.Store(key, savedArchive{dst, got})
			o.Log("%s: %s: present, image %s unchanged and sha256 matches %s (skipped)", profile, rel, refStr, artifacts.SumsFile)
			return got, nil
		}
	}
	partial := dst + ".partial"
	// The same image saved for another profile (the workload image, or
	// images two profiles share) is copied, not downloaded again.
	if v, ok := savedArchives.Load(key); ok && v.(savedArchive).path != dst {
		from := v.(savedArchive)
		if err := copyVerified(from.path, partial, from.sha256); err == nil {
			if err := os.Rename(partial, dst); err == nil {
				o.Log("%s: %s: image %s unchanged, copied from %s", profile, rel, refStr, from.path)
				return from.sha256, nil
			}
		}
		os.Remove(partial) // changed or gone since: download it
	}
	start := time.Now()
	if err := tarball.WriteToFile(partial, ref, img); err != nil {
		os.Remove(partial)
		return "", fmt.Errorf("image %s cannot be saved: %w", refStr, err)
	}
	sum, err := image.FileSHA256(partial)
	if err == nil {
		err = os.Rename(partial, dst)
	}
	if err != nil {
		os.Remove(partial)
		return "", err
	}
	savedArchives.Store(key, savedArchive{dst, sum})
	size := int64(0)
	if st, err := os.Stat(dst); err == nil {
		size = st.Size()
	}
	o.Log("%s: %s: saved image %s (%.1f MiB, config %s) in %.0f s", profile, rel, refStr,
		float64(size)/(1<<20), want[0].Config, time.Since(start).Seconds())
	return sum, nil
}

// savedArchives are the image archives this process wrote or found intact,
// by archiveKey, so that one image in several folders is downloaded once.
var savedArchives sync.Map // string -> savedArchive

type savedArchive struct{ path, sha256 string }

// archiveKey identifies an archive's content as its manifest does: the
// image's config and layers under the same tags.
func archiveKey(m tarball.Manifest) string {
	var b strings.Builder
	for _, d := range m {
		fmt.Fprintf(&b, "%s|%s|%s\n", d.Config, strings.Join(d.RepoTags, ","), strings.Join(d.Layers, ","))
	}
	return b.String()
}

// copyVerified copies src to dst if src still has the digest want.
func copyVerified(src, dst, want string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && hex.EncodeToString(h.Sum(nil)) != want {
		err = fmt.Errorf("%s changed since it was saved", src)
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
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

// SnapScheme starts the URL of a snap artifact: "snap:NAME?channel=C" is
// the snap NAME of channel C (the snap's default channel without one), and
// "#assert" after it is that snap's assertions.
const SnapScheme = "snap:"

// IsSnapURL tells whether an artifact URL names a snap.
func IsSnapURL(u string) bool { return strings.HasPrefix(u, SnapScheme) }

// snapName is snapd's rule for a snap name (snap.ValidateName): lower-case
// letters, digits and single inner hyphens, at least one letter.
var snapName = regexp.MustCompile(`^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$`)

// snapRef is one `snap download`: a snap and a channel.
type snapRef struct{ name, channel string }

// parseSnapURL reads "snap:NAME?channel=C[#assert]" (C path-escaped or not).
func parseSnapURL(raw string) (ref snapRef, assert bool, err error) {
	bad := func(why string) (snapRef, bool, error) {
		return snapRef{}, false, fmt.Errorf("%q is not snap:NAME?channel=CHANNEL[#assert]: %s", raw, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad(err.Error())
	}
	if u.Scheme+":" != SnapScheme || u.Opaque == "" {
		return bad("no snap name")
	}
	if len(u.Opaque) > 40 || !snapName.MatchString(u.Opaque) {
		return bad("invalid snap name")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad(err.Error())
	}
	for k := range q {
		if k != "channel" {
			return bad("unknown parameter " + k)
		}
	}
	switch u.Fragment {
	case "":
	case "assert":
		assert = true
	default:
		return bad("unknown fragment #" + u.Fragment)
	}
	return snapRef{name: u.Opaque, channel: q.Get("channel")}, assert, nil
}

// args are the arguments of the `snap download` that fetches ref, as the
// profiles' snap: rule says: `snap download NAME --channel=C --basename=NAME`
// (--basename gives NAME.snap and NAME.assert instead of NAME_REV.*).
func (r snapRef) args() []string {
	a := []string{"download", r.name}
	if r.channel != "" {
		a = append(a, "--channel="+r.channel)
	}
	return append(a, "--basename="+r.name)
}

// snapCommand is the command a snap: URL stands for, for messages.
func snapCommand(raw string) string {
	ref, _, err := parseSnapURL(raw)
	if err != nil {
		return raw
	}
	return "snap " + strings.Join(ref.args(), " ")
}

// snapDownloads runs `snap download` once per snap and channel of a Run,
// for the .snap and the .assert the profile declares.
type snapDownloads struct {
	dir  string // the profile's folder: downloads land in a temporary folder inside it, then are renamed
	got  map[snapRef]*snapFiles
	tmps []string
}

// snapFiles are where one download's files are now: in its temporary
// folder until the first artifact moves them to its declared path.
type snapFiles struct {
	tmp, snap, assert, revision string
}

func (s *snapDownloads) cleanup() {
	for _, t := range s.tmps {
		os.RemoveAll(t)
	}
}

// fetch places the file a snap: artifact names at dst and returns its
// sha256 for SHA256SUMS. No published-checksum URL applies to a snap: its
// checksum is the store-signed snap-revision assertion (NAME.assert, which
// carries the snap's sha3-384 and size), and snapd verifies the .snap
// against it on the node at `snap ack` + `snap install`. Here the pair is
// only checked to belong together; the digest listed is the file's own.
// A channel moves, and only the store knows where it points: every fetch
// downloads the snap again.
func (s *snapDownloads) fetch(ctx context.Context, o Options, raw, dst, rel, profile string) (string, error) {
	ref, assert, err := parseSnapURL(raw)
	if err != nil {
		return "", err
	}
	f, ok := s.got[ref]
	if !ok {
		if f, err = s.download(ctx, ref); err != nil {
			return "", err
		}
		s.got[ref] = f
	}
	src, what := &f.snap, fmt.Sprintf("revision %s, sha3-384 and size as its assertion says", f.revision)
	if assert {
		src, what = &f.assert, fmt.Sprintf("the store-signed assertions of revision %s", f.revision)
	}
	if filepath.Dir(*src) == f.tmp {
		err = os.Rename(*src, dst)
	} else if *src != dst { // a second artifact naming the same file
		err = copyFile(*src, dst)
	}
	if err != nil {
		return "", err
	}
	*src = dst
	sum, err := image.FileSHA256(dst)
	if err != nil {
		return "", err
	}
	o.Log("%s: %s: downloaded with `snap %s` (%s; snapd verifies it at snap ack and snap install)",
		profile, rel, strings.Join(ref.args(), " "), what)
	return sum, nil
}

// download runs `snap download` in a temporary folder and finds the two
// files it wrote: NAME.snap and NAME.assert, or NAME_REV.* from a snap
// that ignores --basename.
func (s *snapDownloads) download(ctx context.Context, ref snapRef) (*snapFiles, error) {
	snap, err := exec.LookPath("snap")
	if err != nil {
		return nil, fmt.Errorf("`snap %s` needs snapd's snap command: %w", strings.Join(ref.args(), " "), err)
	}
	tmp, err := os.MkdirTemp(s.dir, ".snap-download-")
	if err != nil {
		return nil, err
	}
	s.tmps = append(s.tmps, tmp)
	cmd := exec.CommandContext(ctx, snap, ref.args()...)
	cmd.Dir = tmp
	out := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("`snap %s` failed: %v%s", strings.Join(ref.args(), " "), err, out.lastLine())
	}
	find := func(ext string) (string, error) {
		if p := filepath.Join(tmp, ref.name+ext); regularFile(p) {
			return p, nil
		}
		m, _ := filepath.Glob(filepath.Join(tmp, ref.name+"_*"+ext))
		if len(m) == 1 && regularFile(m[0]) {
			return m[0], nil
		}
		var names []string
		if entries, err := os.ReadDir(tmp); err == nil {
			for _, e := range entries {
				names = append(names, e.Name())
			}
		}
		return "", fmt.Errorf("`snap %s` left no single %s%s (it wrote: %s)", strings.Join(ref.args(), " "), ref.name, ext, strings.Join(names, ", "))
	}
	f := &snapFiles{tmp: tmp}
	if f.snap, err = find(".snap"); err != nil {
		return nil, err
	}
	if f.assert, err = find(".assert"); err != nil {
		return nil, err
	}
	if f.revision, err = checkSnapAssertion(f.snap, f.assert); err != nil {
		return nil, err
	}
	return f, nil
}

// checkSnapAssertion makes sure a .snap and an .assert belong together:
// the snap-revision assertion names the snap's sha3-384 and size. It
// returns the revision. (The signature is snapd's to check on the node.)
func checkSnapAssertion(snapPath, assertPath string) (string, error) {
	data, err := os.ReadFile(assertPath)
	if err != nil {
		return "", err
	}
	f, err := os.Open(snapPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha3.New384()
	size, err := io.Copy(h, f)
	if err != nil {
		return "", err
	}
	digest := base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	// Assertions are blocks of "header: value" lines; a snap-revision one
	// has snap-sha3-384, snap-size and snap-revision.
	var found bool
	for _, block := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n\n") {
		headers := map[string]string{}
		for _, line := range strings.Split(block, "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok {
				headers[k] = strings.TrimSpace(v)
			}
		}
		if headers["type"] != "snap-revision" {
			continue
		}
		found = true
		if headers["snap-sha3-384"] == digest && headers["snap-size"] == fmt.Sprint(size) {
			return headers["snap-revision"], nil
		}
	}
	if !found {
		return "", fmt.Errorf("%s holds no snap-revision assertion", filepath.Base(assertPath))
	}
	return "", fmt.Errorf("%s (sha3-384 %s, %d bytes) is not the snap %s asserts; refused",
		filepath.Base(snapPath), digest, size, filepath.Base(assertPath))
}

func regularFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	partial := dst + ".partial"
	out, err := os.Create(partial)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(partial, dst)
	}
	if err != nil {
		os.Remove(partial)
	}
	return err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

// lastLine is the command's last non-empty output line, as ": line".
func (t *tailBuffer) lastLine() string {
	lines := strings.FieldsFunc(string(bytes.TrimSpace(t.b)), func(r rune) bool { return r == '\n' || r == '\r' })
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return ": " + l
		}
	}
	return ""
}
