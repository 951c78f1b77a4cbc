package artifacts

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/profiles"
)

func testProfile() profiles.Profile {
	return profiles.Profile{
		Name:  "kubeadm",
		Hooks: map[string]string{profiles.HookInstallOffline: "true"},
		Artifacts: []profiles.Artifact{
			{Path: "bin/kubelet", URL: "https://example.invalid/{version}/kubelet", Checksum: "https://example.invalid/{version}/kubelet.sha256"},
			{Path: "images/etcd.tar", Image: "registry.k8s.io/etcd:3.5.16-0"},
			{Path: "images/coredns.tar", Image: "registry.k8s.io/coredns/coredns:v1.11.3", Optional: true},
		},
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// bundle writes files and a SHA256SUMS listing the ones in sums (path ->
// content whose digest is listed).
func bundle(t *testing.T, files map[string]string, sums map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if sums != nil {
		var s Sums
		for rel, content := range sums {
			s.Entries = append(s.Entries, Entry{Path: rel, SHA256: sha(content)})
		}
		if err := os.WriteFile(filepath.Join(dir, SumsFile), s.Format(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestVerify(t *testing.T) {
	good := map[string]string{"bin/kubelet": "kubelet binary", "images/etcd.tar": "etcd archive"}
	withOptional := map[string]string{"bin/kubelet": "kubelet binary", "images/etcd.tar": "etcd archive", "images/coredns.tar": "coredns"}
	withExtra := map[string]string{"bin/kubelet": "kubelet binary", "images/etcd.tar": "etcd archive", "images/mysql.tar": "mysql"}
	cases := []struct {
		name  string
		files map[string]string
		sums  map[string]string
		want  string // "" = ok; else the whole message, with DIR for the folder
	}{
		{"ok", good, good, ""},
		{"ok with an extra listed file", withExtra, withExtra, ""},
		{"missing SHA256SUMS", good, nil,
			"footprint:artifacts: kubeadm: DIR has no SHA256SUMS (footprint artifacts fetch writes one)"},
		{"missing declared file", map[string]string{"images/etcd.tar": "etcd archive"}, good,
			"footprint:artifacts: kubeadm: bin/kubelet is missing in DIR"},
		{"optional file there and listed", withOptional, withOptional, ""},
		{"optional file there but not listed", withOptional, good,
			"footprint:artifacts: kubeadm: images/coredns.tar is not listed in DIR/SHA256SUMS"},
		{"optional file listed but missing", good, withOptional,
			"footprint:artifacts: kubeadm: images/coredns.tar is missing in DIR"},
		{"declared file not listed", good, map[string]string{"bin/kubelet": "kubelet binary"},
			"footprint:artifacts: kubeadm: images/etcd.tar is not listed in DIR/SHA256SUMS"},
		{"listed extra file missing", good, withExtra,
			"footprint:artifacts: kubeadm: images/mysql.tar is missing in DIR"},
		{"wrong digest", map[string]string{"bin/kubelet": "kubelet binary", "images/etcd.tar": "tampered"}, good,
			"footprint:artifacts: kubeadm: images/etcd.tar does not match SHA256SUMS (sha256 " + sha("tampered")[:12] +
				"… want " + sha("etcd archive")[:12] + "…)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := bundle(t, c.files, c.sums)
			err := Verify(dir, testProfile())
			if c.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			want := strings.ReplaceAll(c.want, "DIR", dir)
			if err == nil || err.Error() != want {
				t.Fatalf("Verify:\n got %v\nwant %s", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestVerifyNotRegular(t *testing.T) {
	dir := bundle(t, map[string]string{"images/etcd.tar": "etcd archive"}, map[string]string{"images/etcd.tar": "etcd archive", "bin/kubelet": "x"})
	if err := os.MkdirAll(filepath.Join(dir, "bin", "kubelet"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Verify(dir, testProfile())
	if err == nil || err.Error() != "footprint:artifacts: kubeadm: bin/kubelet is not a regular file in "+dir {
		t.Fatalf("got %v", err)
	}
}

func TestVerifyNoticesAChangeAfterAnEarlierCheck(t *testing.T) {
	good := map[string]string{"bin/kubelet": "kubelet binary", "images/etcd.tar": "etcd archive"}
	dir := bundle(t, good, good)
	if err := Verify(dir, testProfile()); err != nil {
		t.Fatal(err)
	}
	// Same path, other content and size: the second check hashes it again.
	if err := os.WriteFile(filepath.Join(dir, "bin", "kubelet"), []byte("another kubelet"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir, testProfile()); err == nil || !strings.Contains(err.Error(), "bin/kubelet does not match") {
		t.Fatalf("got %v", err)
	}
}

func TestParseSums(t *testing.T) {
	d := sha("a")
	s, err := ParseSums([]byte("# footprint: profile=k3s version=v1.31.4+k3s1\n\n" + d + "  ./bin/k3s\r\n" + strings.ToUpper(d) + " *images/a b.tar\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Profile != "k3s" || s.Version != "v1.31.4+k3s1" || len(s.Entries) != 2 ||
		s.Entries[0] != (Entry{"bin/k3s", d}) || s.Entries[1] != (Entry{"images/a b.tar", d}) {
		t.Fatalf("parsed %+v", s)
	}
	round, err := ParseSums(s.Format())
	if err != nil || round.Profile != s.Profile || round.Version != s.Version || len(round.Entries) != 2 {
		t.Fatalf("round trip: %+v, %v", round, err)
	}
	for _, bad := range []string{
		"nonsense\n",
		d + "  ../etc/passwd\n",
		d + "  /etc/passwd\n",
		d + "  SHA256SUMS\n",
		d + "  a\n" + d + "  a\n",
		strings.Repeat("g", 64) + "  a\n",
	} {
		if _, err := ParseSums([]byte(bad)); err == nil {
			t.Errorf("ParseSums(%q) accepted it", bad)
		}
	}
}

func TestExpand(t *testing.T) {
	got := Expand("https://x/{version}/k3s?v={versionNoV}", "v1.31.4+k3s1 x/y")
	want := "https://x/v1.31.4+k3s1%20x%2Fy/k3s?v=1.31.4+k3s1%20x%2Fy"
	if got != want {
		t.Fatalf("Expand = %s, want %s", got, want)
	}
}

func TestCheckVersionStamp(t *testing.T) {
	dir := bundle(t, map[string]string{"f": "x"}, map[string]string{"f": "x"})
	// bare has no offline install: footprint:artifacts cannot apply to it.
	exp := config.Experiment{Artifacts: map[string]string{"bare": dir}}
	err := Check(exp)
	if err == nil || err.Error() != "footprint:artifacts: bare: the profile has no offline install (no installOffline hook)" {
		t.Fatalf("Check: %v", err)
	}

	// The stamp fetch.Run writes must name the profile and the version the stack runs.
	tp := testProfile()
	files := map[string]string{"bin/kubelet": "k", "images/etcd.tar": "e"}
	dir = bundle(t, files, nil)
	s := Sums{Profile: "kubeadm", Version: "v1.31.0", Entries: []Entry{{"bin/kubelet", sha("k")}, {"images/etcd.tar", sha("e")}}}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), s.Format(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := VerifyVersion(dir, tp, "v1.31.0"); err != nil {
		t.Fatalf("VerifyVersion, same version: %v", err)
	}
	err = VerifyVersion(dir, tp, "v1.32.0")
	want := "footprint:artifacts: kubeadm: " + dir + " holds the artifacts of kubeadm v1.31.0, the stack runs kubeadm v1.32.0 (footprint artifacts fetch gets them)"
	if err == nil || err.Error() != want {
		t.Fatalf("VerifyVersion, other version:\n got %v\nwant %s", err, want)
	}
}
