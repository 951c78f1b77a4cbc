package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/footprint-dev/footprint/profiles"
)

const helperArgsEnv = "FOOTPRINT_TEST_HELPER_ARGS"

// TestFootprintHelperProcess is the footprint command itself when a test
// starts this binary with helperArgsEnv set: profiles load once per
// process, so a test that brings its own (FOOTPRINT_PROFILES_DIR) runs the
// CLI in a process of its own.
func TestFootprintHelperProcess(t *testing.T) {
	raw := os.Getenv(helperArgsEnv)
	if raw == "" {
		return // not started as the helper
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"footprint"}, args...)
	main()
	os.Exit(0)
}

// footprintCLI runs the CLI, with extra profiles from profilesDir unless
// it is "".
func footprintCLI(t *testing.T, profilesDir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFootprintHelperProcess$")
	cmd.Env = append(os.Environ(), helperArgsEnv+"="+string(raw))
	if profilesDir != "" {
		cmd.Env = append(cmd.Env, profiles.ExtraDirEnv+"="+profilesDir)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func hexSHA(b string) string {
	h := sha256.Sum256([]byte(b))
	return hex.EncodeToString(h[:])
}

// TestArtifactsFetchThenValidate: `footprint artifacts fetch` fills the
// folder from a release server and a registry on 127.0.0.1, `footprint
// validate` accepts it as footprint:artifacts, and refuses it in one line
// once a file is changed or SHA256SUMS is gone.
func TestArtifactsFetchThenValidate(t *testing.T) {
	tool := "#!/bin/sh\necho offline tool\n"
	files := map[string]string{
		"/releases/v2.0.1/tool":          tool,
		"/releases/v2.0.1/checksums.txt": hexSHA("x") + "  other\n" + hexSHA(tool) + "  tool\n",
	}
	rel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	defer rel.Close()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host + "/fp/runtime:2.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}

	profilesDir := t.TempDir()
	profile := "name: fpoffline\n" +
		"description: a profile with an offline install, for this test\n" +
		"defaultVersion: v2.0.0\n" +
		"hooks:\n  install: \"true\"\n  installOffline: \"true\"\n" +
		"artifacts:\n" +
		"  - path: bin/tool\n" +
		"    url: " + rel.URL + "/releases/{version}/tool\n" +
		"    checksum: " + rel.URL + "/releases/{version}/checksums.txt\n" +
		"  - path: images/runtime.tar\n" +
		"    image: " + host + "/fp/runtime:{versionNoV}\n"
	write(t, filepath.Join(profilesDir, "fpoffline.yaml"), profile)
	project := t.TempDir()
	// The stack pins v2.0.1; the image is a URL validation does not fetch.
	write(t, filepath.Join(project, "stacks", "Pulumi.t.yaml"), "config:\n"+
		"  footprint:image: https://cloud-images.example/noble-minimal.img\n"+
		"  footprint:profiles:\n    - fpoffline\n"+
		"  footprint:versions:\n    fpoffline: v2.0.1\n")

	stdout, stderr, code := footprintCLI(t, profilesDir, "artifacts", "fetch", "--stack", "t", "--project-dir", project)
	if code != 0 {
		t.Fatalf("artifacts fetch: exit %d\n%s%s", code, stdout, stderr)
	}
	dir := filepath.Join(project, "offline", "fpoffline")
	for _, want := range []string{
		"footprint: fpoffline: bin/tool: downloaded " + rel.URL + "/releases/v2.0.1/tool",
		"footprint: fpoffline: images/runtime.tar: saved image " + host + "/fp/runtime:2.0.1",
		"footprint: fpoffline: wrote " + filepath.Join(dir, "SHA256SUMS") + " (2 files)",
		"set footprint:artifacts: {fpoffline: offline/fpoffline}",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("artifacts fetch output lacks %q:\n%s", want, stdout)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "bin", "tool")); string(got) != tool {
		t.Errorf("bin/tool holds %q", got)
	}
	back, err := tarball.ImageFromPath(filepath.Join(dir, "images", "runtime.tar"), &tag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if got, err := back.Digest(); err != nil || got != want {
		t.Fatalf("archived image %s (%v), pushed %s", got, err, want)
	}

	// A second fetch keeps what is there.
	stdout, stderr, code = footprintCLI(t, profilesDir, "artifacts", "fetch", "--stack", "t", "--project-dir", project)
	if code != 0 || strings.Count(stdout, "(skipped)") != 2 {
		t.Fatalf("second fetch: exit %d\n%s%s", code, stdout, stderr)
	}

	validate := func() (string, string, int) {
		return footprintCLI(t, profilesDir, "validate", "--stack", "t", "--project-dir", project,
			"--set", "artifacts=fpoffline=offline/fpoffline")
	}
	stdout, stderr, code = validate()
	if code != 0 || !strings.HasPrefix(stdout, "stack t is valid") {
		t.Fatalf("validate with the fetched folder: exit %d\n%s%s", code, stdout, stderr)
	}

	// A changed file fails the pre-flight, in one line naming key, profile and file.
	write(t, filepath.Join(dir, "bin", "tool"), "#!/bin/sh\necho tampered\n")
	stdout, stderr, code = validate()
	wantErr := "footprint: footprint:artifacts: fpoffline: bin/tool does not match SHA256SUMS (sha256 " +
		hexSHA("#!/bin/sh\necho tampered\n")[:12] + "… want " + hexSHA(tool)[:12] + "…)\n"
	if code != 1 || stderr != wantErr || stdout != "" {
		t.Fatalf("validate with a changed file: exit %d\nstdout %q\nstderr %q\nwant   %q", code, stdout, stderr, wantErr)
	}

	// So does a folder without SHA256SUMS.
	if err := os.Remove(filepath.Join(dir, "SHA256SUMS")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = validate()
	wantErr = "footprint: footprint:artifacts: fpoffline: " + dir + " has no SHA256SUMS (footprint artifacts fetch writes one)\n"
	if code != 1 || stderr != wantErr {
		t.Fatalf("validate without SHA256SUMS: exit %d\nstderr %q\nwant   %q", code, stderr, wantErr)
	}
}

// TestArtifactsFetchSavesTheWorkloadImage: a profile that runs the
// workload also gets the stack's footprint:workloadImage, listed in its
// SHA256SUMS, and the folder passes the pre-flight.
func TestArtifactsFetchSavesTheWorkloadImage(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	push := func(ref string) name.Tag {
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		return tag
	}
	push(host + "/fp/runtime:1.0")
	mysql := push(host + "/library/mysql:8.4")

	profilesDir := t.TempDir()
	write(t, filepath.Join(profilesDir, "fpkube.yaml"), "name: fpkube\n"+
		"description: a Kubernetes profile with an offline install, for this test\n"+
		"defaultVersion: v1.0\n"+
		"hooks:\n  install: \"true\"\n  installOffline: \"true\"\n"+
		"kubernetes: {kubectl: kubectl, kubeconfig: /k, apiServer: https://127.0.0.1:6443}\n"+
		"artifacts:\n  - path: images/runtime.tar\n    image: "+host+"/fp/runtime:1.0\n")
	project := t.TempDir()
	write(t, filepath.Join(project, "stacks", "Pulumi.t.yaml"), "config:\n"+
		"  footprint:image: https://cloud-images.example/noble-minimal.img\n"+
		"  footprint:profiles:\n    - fpkube\n"+
		"  footprint:workloadImage: "+mysql.String()+"\n")

	stdout, stderr, code := footprintCLI(t, profilesDir, "artifacts", "fetch", "--stack", "t", "--project-dir", project)
	if code != 0 {
		t.Fatalf("artifacts fetch: exit %d\n%s%s", code, stdout, stderr)
	}
	dir := filepath.Join(project, "offline", "fpkube")
	for _, want := range []string{
		"footprint: fpkube v1.0: 1 artifact(s) and the workload image " + mysql.String() + " into " + dir,
		"footprint: fpkube: images/workload.tar: saved image " + mysql.String(),
		"footprint: fpkube: wrote " + filepath.Join(dir, "SHA256SUMS") + " (2 files)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("artifacts fetch output lacks %q:\n%s", want, stdout)
		}
	}
	sums, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	archive, _ := os.ReadFile(filepath.Join(dir, "images", "workload.tar"))
	if !strings.Contains(string(sums), hexSHA(string(archive))+"  images/workload.tar\n") {
		t.Errorf("SHA256SUMS does not list the workload image:\n%s", sums)
	}
	if _, err := tarball.ImageFromPath(filepath.Join(dir, "images", "workload.tar"), &mysql); err != nil {
		t.Errorf("the archive does not hold %s: %v", mysql, err)
	}
	stdout, stderr, code = footprintCLI(t, profilesDir, "validate", "--stack", "t", "--project-dir", project,
		"--set", "artifacts=fpkube=offline/fpkube")
	if code != 0 || !strings.HasPrefix(stdout, "stack t is valid") {
		t.Fatalf("validate with the fetched folder: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestArtifactsFetchWithoutSnapd: the MicroK8s profiles' snaps need
// `snap download`; a machine without it gets one line naming the profile
// and the artifact, before anything is downloaded.
func TestArtifactsFetchWithoutSnapd(t *testing.T) {
	project := t.TempDir()
	write(t, filepath.Join(project, "stacks", "Pulumi.t.yaml"), "config:\n  footprint:profiles:\n    - microk8s\n")
	t.Setenv("PATH", t.TempDir())
	stdout, stderr, code := footprintCLI(t, "", "artifacts", "fetch", "--stack", "t", "--project-dir", project)
	want := "footprint: artifacts fetch: microk8s: snapd.snap: `snap download snapd --channel=latest/stable --basename=snapd` " +
		"needs snapd's snap command, which is not on this machine's PATH: install snapd " +
		"(https://snapcraft.io/docs/installing-snapd) or fetch on a machine that has it\n"
	if code != 1 || stderr != want {
		t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, stdout, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(project, "offline", "microk8s")); !os.IsNotExist(err) {
		t.Errorf("the folder was created: %v", err)
	}
}

func TestArtifactsFetchNeedsAProfileWithArtifacts(t *testing.T) {
	project := t.TempDir()
	write(t, filepath.Join(project, "stacks", "Pulumi.t.yaml"), "config:\n  footprint:profiles:\n    - bare\n")
	_, stderr, code := footprintCLI(t, "", "artifacts", "fetch", "--stack", "t", "--project-dir", project)
	if code != 1 || !strings.Contains(stderr, "footprint: artifacts fetch: no profile of stack t declares artifacts (profiles: bare)") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
