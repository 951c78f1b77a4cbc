// Command kube-images writes a container image archive (docker-archive
// format, which `ctr images import` and `docker load` read) without a
// registry or a daemon:
//
//	kube-images -ref REF -out FILE [-file IN_IMAGE=HOST_PATH]... [-rootfs TAR] [-entrypoint PATH] [-cmd PATH]
//
// -file adds one host file at an absolute path of the image (mode 0755,
// owned by root); -rootfs adds a whole root file system tar as the first
// layer. The image is linux/amd64 with a standard PATH.
package main

import (
	"archive/tar"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	var files fileList
	ref := flag.String("ref", "", "image reference to tag the archive with")
	out := flag.String("out", "", "archive to write")
	rootfs := flag.String("rootfs", "", "root file system tar for the first layer")
	entrypoint := flag.String("entrypoint", "", "the image's entrypoint")
	cmd := flag.String("cmd", "", "the image's command")
	flag.Var(&files, "file", "IN_IMAGE=HOST_PATH, repeatable")
	flag.Parse()
	if err := run(*ref, *out, *rootfs, *entrypoint, *cmd, files); err != nil {
		fmt.Fprintln(os.Stderr, "kube-images:", err)
		os.Exit(1)
	}
}

func run(ref, out, rootfs, entrypoint, cmd string, files []string) error {
	if ref == "" || out == "" {
		return errors.New("-ref and -out are required")
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("-ref: %w", err)
	}
	var layers []v1.Layer
	if rootfs != "" {
		l, err := tarball.LayerFromFile(rootfs)
		if err != nil {
			return fmt.Errorf("-rootfs: %w", err)
		}
		layers = append(layers, l)
	}
	if len(files) > 0 {
		stage, err := os.MkdirTemp("", "kube-images-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(stage)
		l, err := filesLayer(files, stage)
		if err != nil {
			return err
		}
		layers = append(layers, l)
	}
	if len(layers) == 0 {
		return errors.New("nothing to put in the image: give -rootfs or -file")
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if entrypoint != "" {
		cf.Config.Entrypoint = []string{entrypoint}
	}
	if cmd != "" {
		cf.Config.Cmd = []string{cmd}
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

// filesLayer is one layer with each file at its path, parent folders first,
// everything owned by root. The layer is staged as a tar file in stage: the
// binaries are large.
func filesLayer(specs []string, stage string) (v1.Layer, error) {
	type entry struct{ dst, src string }
	var entries []entry
	dirs := map[string]bool{}
	for _, spec := range specs {
		dst, src, ok := strings.Cut(spec, "=")
		if !ok || !path.IsAbs(dst) {
			return nil, fmt.Errorf("-file %q: want /path/in/image=host-path", spec)
		}
		for d := path.Dir(dst); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
		entries = append(entries, entry{dst, src})
	}
	staged, err := os.Create(filepath.Join(stage, "files.tar"))
	if err != nil {
		return nil, err
	}
	defer staged.Close()
	tw := tar.NewWriter(staged)
	epoch := time.Unix(0, 0)
	// Sorted, "/a" comes before "/a/b": parents first.
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		h := &tar.Header{Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		if err := addFile(tw, e.dst, e.src, epoch); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return tarball.LayerFromFile(staged.Name())
}

func addFile(tw *tar.Writer, dst, src string, mtime time.Time) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("-file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := &tar.Header{Name: strings.TrimPrefix(dst, "/"), Mode: 0o755, Size: st.Size(), ModTime: mtime, Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("-file %s: %w", src, err)
	}
	return nil
}
