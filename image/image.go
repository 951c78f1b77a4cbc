// Package image turns the configured image (a URL or a local file) into a
// local file and its sha256, before any resource is created: the digest is
// recorded with every result, a download happens once per image and host,
// and an image that cannot be fetched fails the run with a clear message
// instead of a half-created stack.
package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
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
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/footprint-dev/footprint/internal/redact"
	"github.com/footprint-dev/footprint/internal/stall"
)

// Resolved is an image ready to be uploaded into a storage pool.
type Resolved struct {
	Ref      string // as configured, its credentials redacted: it is recorded and printed
	Path     string // local file
	SHA256   string
	Format   string // qcow2 or raw, read from the file's header
	Verified string // what the digest was checked against, if anything
}

// stallAfter ends a download from which no byte arrived for so long: a
// healthy mirror is never silent for a minute.
var stallAfter = time.Minute

// CacheDir is where downloaded images are kept between runs.
func CacheDir() string {
	if d := os.Getenv("FOOTPRINT_CACHE"); d != "" {
		return filepath.Join(d, "images")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "footprint", "images")
}

// Resolve returns the local file for ref, downloading it into cacheDir when
// ref is a URL. expectSHA256, when set, must match.
func Resolve(ctx context.Context, ref, expectSHA256, cacheDir string) (Resolved, error) {
	r, err := resolve(ctx, ref, expectSHA256, cacheDir)
	if err != nil {
		return r, err
	}
	r.Format, err = format(r.Path)
	if err != nil {
		return Resolved{}, fmt.Errorf("image %s: %w", redact.URL(ref), err)
	}
	return r, nil
}

// format tells qcow2 from raw by the qcow2 magic (Ubuntu names its qcow2
// images .img, so the name says nothing) and refuses what would only fail
// later as a guest that never boots: a qcow2 that qemu-img finds corrupt,
// or a "raw" file without a partition table.
func format(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n >= 4 && string(head[:4]) == "QFI\xfb" {
		if err := selfContained(head); err != nil {
			return "", err
		}
		return "qcow2", checkQcow2(p)
	}
	mbr := n >= 512 && head[510] == 0x55 && head[511] == 0xaa
	gpt := n >= 520 && string(head[512:520]) == "EFI PART"
	if !mbr && !gpt {
		return "", fmt.Errorf("neither a qcow2 image nor a raw disk with a partition table")
	}
	return "raw", nil
}

// selfContained refuses a qcow2 image that names another file: a backing
// file (header bytes 8..16, its offset, non-zero) or, in version 3, an
// external data file (incompatible feature bit 2). The base volume is
// uploaded as one file, and a name in it would be opened on the host: by
// qemu-img check here, by QEMU under libvirt, any file the image chooses.
func selfContained(head []byte) error {
	if len(head) < 104 {
		return errors.New("a qcow2 header cut short")
	}
	if binary.BigEndian.Uint64(head[8:16]) != 0 {
		return errors.New("a qcow2 image with a backing file is refused: flatten it first (qemu-img convert -O qcow2 IMAGE FLAT)")
	}
	if binary.BigEndian.Uint32(head[4:8]) >= 3 && binary.BigEndian.Uint64(head[72:80])&(1<<2) != 0 {
		return errors.New("a qcow2 image with an external data file is refused: flatten it first (qemu-img convert -O qcow2 IMAGE FLAT)")
	}
	return nil
}

// checkQcow2 runs `qemu-img check`, where qemu-img is installed (make tools
// installs it; a host driving a remote libvirt may not have it).
func checkQcow2(p string) error {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		return nil
	}
	out, err := exec.Command("qemu-img", "check", p).CombinedOutput()
	var ee *exec.ExitError
	// exit status 3: leaked clusters only, harmless for a read-only base
	if err == nil || errors.As(err, &ee) && ee.ExitCode() == 3 {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return fmt.Errorf("corrupt qcow2 image (qemu-img check: %s)", lines[0])
}

func resolve(ctx context.Context, ref, expectSHA256, cacheDir string) (Resolved, error) {
	if !strings.Contains(ref, "://") {
		sum, err := FileSHA256(ref)
		if err != nil {
			return Resolved{}, fmt.Errorf("image %s: %w", ref, err)
		}
		r := Resolved{Ref: ref, Path: ref, SHA256: sum}
		return r, check(r, expectSHA256)
	}
	return fetch(ctx, ref, expectSHA256, cacheDir)
}

func check(r Resolved, expect string) error {
	if expect != "" && expect != r.SHA256 {
		return fmt.Errorf("image %s: sha256 is %s, footprint:imageSha256 expects %s", r.Ref, r.SHA256, expect)
	}
	return nil
}

func fetch(ctx context.Context, ref, expect, cacheDir string) (Resolved, error) {
	shown := redact.URL(ref)
	u, err := url.Parse(ref)
	if err != nil {
		return Resolved{}, fmt.Errorf("image %s: %w", shown, redact.Error(err))
	}
	client := retryablehttp.NewClient()
	client.Logger = nil
	client.RetryMax = 3
	client.HTTPClient.Timeout = 0 // images are large; the context bounds the download

	// Publishers of cloud images list digests beside them; a moving "release"
	// URL then re-downloads only when the published digest changes.
	published, sumsURL := publishedDigest(ctx, client, u)
	want := expect
	verified := ""
	switch {
	case expect != "":
		verified = "footprint:imageSha256"
	case published != "":
		want, verified = published, redact.URL(sumsURL)
	}

	base := path.Base(u.Path)
	key := sha256.Sum256([]byte(ref))
	dst := filepath.Join(cacheDir, hex.EncodeToString(key[:6])+"-"+base)
	// The cached file's own digest, not a note beside it: the digest is
	// recorded with every result, and a pin holds for the bytes booted.
	if sum, err := FileSHA256(dst); err == nil && (want == "" || sum == want) {
		return Resolved{Ref: shown, Path: dst, SHA256: sum, Verified: verified}, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return Resolved{}, fmt.Errorf("image cache %s: %w", cacheDir, err)
	}
	sum, err := download(ctx, client, ref, dst, want)
	var mismatch digestMismatch
	if errors.As(err, &mismatch) {
		return Resolved{}, fmt.Errorf("image %s: downloaded sha256 %s does not match %s (%s)", shown, string(mismatch), want, verified)
	}
	if err != nil {
		return Resolved{}, fmt.Errorf("image %s cannot be fetched: %w (without internet, set footprint:image to a local file)", shown, redact.Error(err))
	}
	return Resolved{Ref: shown, Path: dst, SHA256: sum, Verified: verified}, nil
}

// digestMismatch is the sha256 of a download that is not the one wanted.
type digestMismatch string

func (d digestMismatch) Error() string { return "downloaded sha256 " + string(d) }

// download fetches ref into a file of its own beside dst, which becomes dst
// by one rename only when its digest is want (any, when want is ""): two
// downloads of one image never write into one file, and dst is never a
// partial or unchecked file, nor lost to a download that fails.
func download(ctx context.Context, client *retryablehttp.Client, ref, dst, want string) (string, error) {
	watch := stall.New(ctx, ref, stallAfter)
	defer watch.Stop()
	sum, err := save(watch, client, ref, dst, want)
	return sum, watch.Err(err)
}

// save is download's transfer, under watch.
func save(watch *stall.Watch, client *retryablehttp.Client, ref, dst, want string) (string, error) {
	req, err := retryablehttp.NewRequestWithContext(watch.Context(), http.MethodGet, ref, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	body := watch.Body(resp.Body)
	defer body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %s", resp.Status)
	}
	f, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.partial")
	if err != nil {
		return "", err
	}
	partial := f.Name()
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Chmod(0o644); err == nil {
		err = cerr // CreateTemp's 0600 would differ from a cache made before
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err == nil && want != "" && sum != want {
		err = digestMismatch(sum)
	}
	if err == nil {
		err = os.Rename(partial, dst)
	}
	if err != nil {
		os.Remove(partial)
		return "", err
	}
	return sum, nil
}

// publishedDigest reads SHA256SUMS next to the image, if the publisher has
// one; failures only mean there is nothing to check against.
func publishedDigest(ctx context.Context, client *retryablehttp.Client, u *url.URL) (string, string) {
	sums := *u
	sums.Path = path.Join(path.Dir(u.Path), "SHA256SUMS")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	watch := stall.New(ctx, sums.String(), stallAfter)
	defer watch.Stop()
	req, err := retryablehttp.NewRequestWithContext(watch.Context(), http.MethodGet, sums.String(), nil)
	if err != nil {
		return "", ""
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", ""
	}
	return parseSums(watch.Body(resp.Body), path.Base(u.Path)), sums.String()
}

func parseSums(r io.Reader, name string) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && strings.TrimPrefix(f[1], "*") == name {
			return strings.ToLower(f[0])
		}
	}
	return ""
}

// FileSHA256 is the hex sha256 of a file, streamed.
func FileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
