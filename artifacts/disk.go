package artifacts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Label is the ISO 9660 volume identifier of an artifacts disk; the
// guest finds the disk by it (/dev/disk/by-label/FPARTIFACTS).
const Label = "FPARTIFACTS"

// diskFormat is part of the cache key: a change to how the disk is made
// must not reuse disks made the old way.
const diskFormat = "footprint-artifacts-iso-v1"

// CacheDir is where artifacts disks are kept between runs (beside, not in,
// the folders scripts/kube-artifacts.sh caches under footprint/artifacts).
func CacheDir() string {
	if d := os.Getenv("FOOTPRINT_CACHE"); d != "" {
		return filepath.Join(d, "artifact-disks")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "footprint", "artifact-disks")
}

// Disk returns a read-only ISO 9660 image (Rock Ridge and Joliet, volume
// label FPARTIFACTS) of the files dir/SHA256SUMS lists, at their relative
// paths, and of SHA256SUMS itself, for a backend to attach to a VM as a
// read-only disk. It is made with genisoimage and cached in cacheDir by the
// hash of SHA256SUMS' content: a second call for the same folder returns at
// once, and concurrent calls are safe (each writes a temporary file and
// renames it). Disk does not check digests; Verify does, before. Errors
// name the folder; the caller adds the key and the profile.
func Disk(dir, cacheDir string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("disk of %s: %s", dir, fmt.Sprintf(format, args...))
	}
	data, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fail("no %s (footprint artifacts fetch writes one)", SumsFile)
		}
		return fail("%v", err)
	}
	sums, err := ParseSums(data)
	if err != nil {
		return fail("%v", err)
	}
	key := sha256.Sum256(append([]byte(diskFormat+"\n"), data...))
	dst := filepath.Join(cacheDir, "artifacts-"+hex.EncodeToString(key[:12])+".iso")
	if st, err := os.Stat(dst); err == nil && st.Mode().IsRegular() {
		return dst, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fail("%v", err)
	}
	// The graft points: ISO path = host path, one per line, '\' and '='
	// escaped as genisoimage wants them.
	var list bytes.Buffer
	for _, rel := range append([]string{SumsFile}, paths(sums)...) {
		if err := regular(abs, rel); err != nil {
			return fail("%v", err)
		}
		list.WriteString(graftEscape(rel) + "=" + graftEscape(filepath.Join(abs, filepath.FromSlash(rel))) + "\n")
	}
	if _, err := exec.LookPath("genisoimage"); err != nil {
		return fail("genisoimage is not installed (make tools installs it)")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return fail("cache %s: %v", cacheDir, err)
	}
	tmp, err := os.CreateTemp(cacheDir, ".artifacts-*.iso.partial")
	if err != nil {
		return fail("%v", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // gone after the rename, or on failure
	cmd := exec.Command("genisoimage", genisoArgs(tmp.Name())...)
	cmd.Stdin = &list
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fail("genisoimage: %v: %s", err, lastLine(stderr.String()))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fail("%v", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fail("%v", err)
	}
	return dst, nil
}

// genisoArgs: Rock Ridge with rationalised modes (-r: owned by root, readable
// by all, executable bits kept), Joliet with long names, ISO level 3 so that
// files of 2 GiB and more are stored, symbolic links followed, the graft
// points read from standard input.
func genisoArgs(out string) []string {
	return []string{
		"-quiet", "-o", out,
		"-V", Label,
		"-r", "-J", "-joliet-long",
		"-iso-level", "3",
		"-input-charset", "utf-8",
		"-follow-links",
		"-graft-points", "-path-list", "-",
	}
}

func paths(s Sums) []string {
	out := make([]string, len(s.Entries))
	for i, e := range s.Entries {
		out[i] = e.Path
	}
	return out
}

func graftEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `=`, `\=`).Replace(s)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
