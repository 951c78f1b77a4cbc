// Package artifacts is the host side of air-gapped installs: the folder the
// stack key footprint:artifacts names for a profile holds the files of that
// profile's documented offline install and a SHA256SUMS manifest of them.
// Before any resource is created the folder is verified against the manifest
// and the profile's declared artifacts (Verify, Check); a backend then hands
// the files to the guest as a read-only ISO 9660 disk (Disk); and on a
// connected machine `footprint artifacts fetch` fills such folders (package
// artifacts/fetch, which the program does not link).
package artifacts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/image"
	"github.com/footprint-dev/footprint/profiles"
)

// SumsFile is the manifest every artifacts folder carries, in sha256sum's
// format ("<hex>  <relative path>" per line); `sha256sum -c SHA256SUMS`
// checks a folder by hand. Every file it lists is delivered to the guest.
const SumsFile = "SHA256SUMS"

// stampPrefix starts the comment line fetch.Run writes into SHA256SUMS to
// say which profile and version the folder holds (sha256sum -c skips
// comments).
const stampPrefix = "# footprint:"

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Entry is one line of SHA256SUMS.
type Entry struct {
	Path   string // relative, slash-separated
	SHA256 string // lower-case hex
}

// Sums is a parsed SHA256SUMS.
type Sums struct {
	Entries []Entry
	// Profile and Version are what fetch.Run recorded; empty for a folder
	// made by hand.
	Profile, Version string
}

// Lookup returns the digest listed for rel.
func (s Sums) Lookup(rel string) (string, bool) {
	for _, e := range s.Entries {
		if e.Path == rel {
			return e.SHA256, true
		}
	}
	return "", false
}

// Expand fills {version} (escaped for a URL path) and {versionNoV} (the same
// without a leading "v") in an artifact's URL, checksum URL or image.
func Expand(s, version string) string {
	v := url.PathEscape(version)
	return strings.NewReplacer("{version}", v, "{versionNoV}", strings.TrimPrefix(v, "v")).Replace(s)
}

// ReadSums reads and parses dir/SHA256SUMS.
func ReadSums(dir string) (Sums, error) {
	data, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		return Sums{}, err
	}
	return ParseSums(data)
}

// ParseSums parses the content of a SHA256SUMS: lines "<hex>  <path>" (or
// "<hex> *<path>", sha256sum's binary mode), blank lines and # comments.
// Paths must be clean and relative; a leading "./" is accepted.
func ParseSums(data []byte) (Sums, error) {
	var s Sums
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if rest, ok := strings.CutPrefix(line, stampPrefix); ok {
				for _, f := range strings.Fields(rest) {
					k, v, _ := strings.Cut(f, "=")
					switch k {
					case "profile":
						s.Profile = v
					case "version":
						s.Version = v
					}
				}
			}
			continue
		}
		if len(line) < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') {
			return Sums{}, fmt.Errorf("%s line %d is not \"<sha256>  <path>\"", SumsFile, n)
		}
		sum := strings.ToLower(line[:64])
		rel := strings.TrimPrefix(line[66:], "./")
		if !hexDigest.MatchString(sum) {
			return Sums{}, fmt.Errorf("%s line %d: %q is not a sha256 digest", SumsFile, n, line[:64])
		}
		if !cleanRelative(rel) || rel == SumsFile {
			return Sums{}, fmt.Errorf("%s line %d: %q is not a clean relative path of a file in the folder", SumsFile, n, rel)
		}
		if seen[rel] {
			return Sums{}, fmt.Errorf("%s line %d: %s is listed twice", SumsFile, n, rel)
		}
		seen[rel] = true
		s.Entries = append(s.Entries, Entry{Path: rel, SHA256: sum})
	}
	if err := sc.Err(); err != nil {
		return Sums{}, fmt.Errorf("%s: %w", SumsFile, err)
	}
	return s, nil
}

// Format renders s as SHA256SUMS content.
func (s Sums) Format() []byte {
	var b bytes.Buffer
	if s.Profile != "" {
		fmt.Fprintf(&b, "%s profile=%s version=%s\n", stampPrefix, s.Profile, s.Version)
	}
	for _, e := range s.Entries {
		fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.Path)
	}
	return b.Bytes()
}

func cleanRelative(p string) bool {
	return p != "" && p != "." && path.Clean(p) == p && !path.IsAbs(p) && p != ".." &&
		!strings.HasPrefix(p, "../") && !strings.ContainsAny(p, "\\\n")
}

// Verify checks a profile's artifacts folder: dir has a SHA256SUMS, every
// artifact the profile declares is a regular file there and is listed in it
// (an optional one may instead be absent from both), and every file it lists
// matches its digest. Files are streamed, and hashed anew on every call.
// The error is one line naming the key and the profile.
func Verify(dir string, p profiles.Profile) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s:%s: %s: %s", config.Namespace, config.KeyArtifacts, p.Name, fmt.Sprintf(format, args...))
	}
	sums, err := ReadSums(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fail("%s has no %s (footprint artifacts fetch writes one)", dir, SumsFile)
	case err != nil:
		return fail("%s: %v", dir, err)
	}
	for _, a := range p.Artifacts {
		_, listed := sums.Lookup(a.Path)
		if a.Optional && !listed && absent(dir, a.Path) {
			continue // a folder without it is complete
		}
		if err := regular(dir, a.Path); err != nil {
			return fail("%v", err)
		}
		if !listed {
			return fail("%s is not listed in %s", a.Path, filepath.Join(dir, SumsFile))
		}
	}
	for _, e := range sums.Entries {
		if err := regular(dir, e.Path); err != nil {
			return fail("%v", err)
		}
		got, err := image.FileSHA256(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			return fail("%s: %v", e.Path, err)
		}
		if got != e.SHA256 {
			return fail("%s does not match %s (sha256 %s… want %s…)", e.Path, SumsFile, got[:12], e.SHA256[:12])
		}
	}
	return nil
}

// VerifyVersion is Verify, and where fetch.Run recorded the profile and
// version in SHA256SUMS, also that they are the ones the stack runs.
func VerifyVersion(dir string, p profiles.Profile, version string) error {
	if err := Verify(dir, p); err != nil {
		return err
	}
	sums, err := ReadSums(dir)
	if err != nil {
		return err // Verify read it a moment ago
	}
	if sums.Profile != "" && (sums.Profile != p.Name || sums.Version != version) {
		return fmt.Errorf("%s:%s: %s: %s holds the artifacts of %s %s, the stack runs %s %s (footprint artifacts fetch gets them)",
			config.Namespace, config.KeyArtifacts, p.Name, dir, sums.Profile, sums.Version, p.Name, version)
	}
	return nil
}

// Check is the pre-flight of footprint:artifacts: every folder the stack
// names is verified for its profile at the version the stack runs, before
// any resource exists.
func Check(exp config.Experiment) error {
	names := make([]string, 0, len(exp.Artifacts))
	for name := range exp.Artifacts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, ok := profiles.Get(name)
		if !ok {
			return fmt.Errorf("%s:%s: unknown profile %q", config.Namespace, config.KeyArtifacts, name)
		}
		if p.Hooks[profiles.HookInstallOffline] == "" {
			return fmt.Errorf("%s:%s: %s: the profile has no offline install (no %s hook)",
				config.Namespace, config.KeyArtifacts, name, profiles.HookInstallOffline)
		}
		if err := VerifyVersion(exp.Artifacts[name], p, exp.Version(name, p.DefaultVersion)); err != nil {
			return err
		}
	}
	return nil
}

func absent(dir, rel string) bool {
	_, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel)))
	return errors.Is(err, os.ErrNotExist)
}

func regular(dir, rel string) error {
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s is missing in %s", rel, dir)
	case err != nil:
		return fmt.Errorf("%s: %w", rel, err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file in %s", rel, dir)
	}
	return nil
}
