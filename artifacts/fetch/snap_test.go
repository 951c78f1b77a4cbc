package fetch

import (
	"context"
	"crypto/sha3"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/profiles"
)

// fakeSnap stands in for snapd's snap command: `snap download NAME ...`
// logs its arguments to $FAKE_SNAP_LOG and writes, in its working folder,
// the snap and assertion the test put in $FAKE_SNAP_STORE, named as
// --basename says, or NAME_123.* as snap names them without it (or with
// $FAKE_SNAP_IGNORE_BASENAME set).
const fakeSnap = `#!/bin/sh
printf '%s\n' "$*" >>"$FAKE_SNAP_LOG"
[ "$1" = download ] || { echo "error: unknown command $1" >&2; exit 2; }
name=$2
base=${name}_123
for a in "$@"; do
	case $a in
	--basename=*) [ -n "${FAKE_SNAP_IGNORE_BASENAME:-}" ] || base=${a#--basename=} ;;
	esac
done
echo "Fetching snap \"$name\""
if [ ! -f "$FAKE_SNAP_STORE/$name.snap" ]; then
	echo "error: cannot download snap \"$name\": snap not found" >&2
	exit 1
fi
cp "$FAKE_SNAP_STORE/$name.snap" "$base.snap"
cp "$FAKE_SNAP_STORE/$name.assert" "$base.assert"
echo "Install the snap with:"
echo "   snap ack $base.assert"
echo "   snap install $base.snap"
`

// snapAssertion is an .assert as `snap download` writes it: account-key,
// snap-declaration and snap-revision assertions, each with its signature.
func snapAssertion(body string, revision int) string {
	sum := sha3.Sum384([]byte(body))
	return "type: account-key\nauthority-id: canonical\npublic-key-sha3-384: BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul\n" +
		"body-length: 3\nsign-key-sha3-384: -CvQKAwRQ5h3Ffn10FILJoEZUXOv6km9FwA80-Rcj-f-6jadQ89VRswHNiEB9Lxk\n\nkey\n\nAcLBUgQAAQoABgUC\n\n" +
		"type: snap-declaration\nauthority-id: canonical\nsnap-id: 99T7MUlRhtI3U0QFgl5mXXESAiSwt776\nsnap-name: x\n" +
		"sign-key-sha3-384: BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul\n\nAcLBUgQAAQoABgUC\n\n" +
		"type: snap-revision\nauthority-id: canonical\n" +
		"snap-sha3-384: " + base64.RawURLEncoding.EncodeToString(sum[:]) + "\n" +
		"developer-id: canonical\nsnap-id: 99T7MUlRhtI3U0QFgl5mXXESAiSwt776\n" +
		fmt.Sprintf("snap-revision: %d\nsnap-size: %d\n", revision, len(body)) +
		"timestamp: 2026-11-02T10:00:00.000000Z\nsign-key-sha3-384: BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul\n\n" +
		"AcLBUgQAAQoABgUCaQ\n"
}

// fakeSnapStore puts the fake snap command first on PATH with a store of
// the given snaps (name -> body, asserted as revision 123), and returns
// the file its calls are logged to.
func fakeSnapStore(t *testing.T, snaps map[string]string) (store, log string) {
	t.Helper()
	bin, store := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "snap"), []byte(fakeSnap), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range snaps {
		write(t, filepath.Join(store, name+".snap"), body)
		write(t, filepath.Join(store, name+".assert"), snapAssertion(body, 123))
	}
	log = filepath.Join(t.TempDir(), "snap.log")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SNAP_STORE", store)
	t.Setenv("FAKE_SNAP_LOG", log)
	t.Setenv("FAKE_SNAP_IGNORE_BASENAME", "")
	return store, log
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

// snapProfile declares its snaps as the MicroK8s profiles do.
func snapProfile() profiles.Profile {
	return profiles.Profile{
		Name:  "fpsnap",
		Hooks: map[string]string{profiles.HookInstallOffline: "true"},
		Artifacts: []profiles.Artifact{
			{Path: "core22.snap", URL: "snap:core22?channel=latest/stable"},
			{Path: "core22.assert", URL: "snap:core22?channel=latest/stable#assert"},
			{Path: "microk8s.snap", URL: "snap:microk8s?channel={version}"},
			{Path: "microk8s.assert", URL: "snap:microk8s?channel={version}#assert"},
		},
	}
}

func TestFetchSnaps(t *testing.T) {
	core, mk8s := "hsqs core22 squashfs", "hsqs "+strings.Repeat("microk8s", 1000)
	_, log := fakeSnapStore(t, map[string]string{"core22": core, "microk8s": mk8s})
	p := snapProfile()
	for _, c := range []struct {
		name, version, ignoreBasename string
		wantCalls                     string
	}{
		{"basename", "1.36/stable", "",
			"download core22 --channel=latest/stable --basename=core22\ndownload microk8s --channel=1.36/stable --basename=microk8s\n"},
		{"NAME_REV names, default channel", "", "1",
			"download core22 --channel=latest/stable --basename=core22\ndownload microk8s --basename=microk8s\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("FAKE_SNAP_IGNORE_BASENAME", c.ignoreBasename)
			os.Remove(log)
			dir := filepath.Join(t.TempDir(), "fpsnap")
			var lines []string
			opts := Options{Log: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }}
			if err := Run(context.Background(), p, c.version, dir, opts); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			// One `snap download` per snap, with the documented arguments.
			if got := mustRead(t, log); got != c.wantCalls {
				t.Errorf("snap was called with\n%s\nwant\n%s", got, c.wantCalls)
			}
			want := map[string]string{
				"core22.snap": core, "core22.assert": snapAssertion(core, 123),
				"microk8s.snap": mk8s, "microk8s.assert": snapAssertion(mk8s, 123),
			}
			for rel, body := range want {
				if got := mustRead(t, filepath.Join(dir, rel)); got != body {
					t.Errorf("%s: %d bytes, want %d", rel, len(got), len(body))
				}
			}
			// The digests are the files' own, and the folder passes the pre-flight.
			sums, err := artifacts.ReadSums(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(sums.Entries) != 4 || sums.Version != c.version {
				t.Fatalf("SHA256SUMS: %+v", sums)
			}
			for rel, body := range want {
				if d, _ := sums.Lookup(rel); d != sha(body) {
					t.Errorf("%s listed as %s, want %s", rel, d, sha(body))
				}
			}
			if err := artifacts.VerifyVersion(dir, p, c.version); err != nil {
				t.Fatal(err)
			}
			// Nothing else is left in the folder.
			entries, _ := os.ReadDir(dir)
			if len(entries) != 5 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("folder holds %v, want the four files and %s", names, artifacts.SumsFile)
			}
			if len(lines) != 5 || !strings.HasPrefix(lines[2], "fpsnap: microk8s.snap: downloaded with `snap download microk8s") ||
				!strings.Contains(lines[2], "revision 123") || !strings.HasPrefix(lines[3], "fpsnap: microk8s.assert: ") {
				t.Errorf("log:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

func TestFetchSnapRefusals(t *testing.T) {
	store, log := fakeSnapStore(t, map[string]string{"core22": "hsqs core22", "microk8s": "hsqs microk8s"})
	p := snapProfile()

	// A snap that is not the one its assertion names is refused, and not left.
	write(t, filepath.Join(store, "microk8s.snap"), "hsqs tampered")
	dir := t.TempDir()
	err := Run(context.Background(), p, "1.36/stable", dir, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "fpsnap: microk8s.snap: microk8s.snap (sha3-384 ") ||
		!strings.HasSuffix(err.Error(), "is not the snap microk8s.assert asserts; refused") {
		t.Fatalf("error: %v", err)
	}
	for _, gone := range []string{"microk8s.snap", "microk8s.assert", artifacts.SumsFile} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s is left after the refusal", gone)
		}
	}

	// A snap the store does not have: snap's own last line.
	p.Artifacts = []profiles.Artifact{{Path: "nosuch.snap", URL: "snap:nosuch?channel=latest/stable"}}
	err = Run(context.Background(), p, "", dir, Options{})
	want := "fpsnap: nosuch.snap: `snap download nosuch --channel=latest/stable --basename=nosuch` failed: exit status 1: " +
		`error: cannot download snap "nosuch": snap not found`
	if err == nil || err.Error() != want {
		t.Fatalf("error: %v\nwant:  %s", err, want)
	}

	// A malformed snap: URL.
	p.Artifacts = []profiles.Artifact{{Path: "x.snap", URL: "snap:x?track=1"}}
	if err := Run(context.Background(), p, "", dir, Options{}); err == nil ||
		!strings.HasPrefix(err.Error(), `fpsnap: x.snap: "snap:x?track=1" is not snap:NAME?channel=CHANNEL[#assert]: unknown parameter track`) {
		t.Fatalf("error: %v", err)
	}

	// Without snapd: one line naming the profile, the artifact and the
	// command, before anything is downloaded or created.
	os.Remove(log)
	t.Setenv("PATH", t.TempDir())
	p = snapProfile()
	p.Artifacts = append([]profiles.Artifact{{Path: "images/a.tar", Image: "127.0.0.1:1/never/fetched:1"}}, p.Artifacts...)
	dir = filepath.Join(t.TempDir(), "fpsnap")
	err = Run(context.Background(), p, "1.36/stable", dir, Options{})
	want = "fpsnap: core22.snap: `snap download core22 --channel=latest/stable --basename=core22` needs snapd's snap command, " +
		"which is not on this machine's PATH: install snapd (https://snapcraft.io/docs/installing-snapd) or fetch on a machine that has it"
	if err == nil || err.Error() != want {
		t.Fatalf("error without snap:\n%v\nwant:\n%s", err, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the folder was created: %v", err)
	}
	if _, err := os.Stat(log); !os.IsNotExist(err) {
		t.Errorf("snap ran: %s", mustRead(t, log))
	}
}

func TestParseSnapURL(t *testing.T) {
	for raw, want := range map[string]string{
		"snap:snapd?channel=latest/stable":         "snapd latest/stable false",
		"snap:microk8s?channel=1.36%2Fstable":      "microk8s 1.36/stable false",
		"snap:microk8s?channel=1.36/stable#assert": "microk8s 1.36/stable true",
		"snap:microk8s?channel=#assert":            "microk8s  true",
		"snap:core22":                              "core22  false",
	} {
		ref, assert, err := parseSnapURL(raw)
		if got := fmt.Sprintf("%s %s %v", ref.name, ref.channel, assert); err != nil || got != want {
			t.Errorf("parseSnapURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"snap:", "snap://microk8s?channel=1", "snap:-x?channel=1", "snap:Microk8s", "snap:123",
		"snap:a--b", "snap:x?channel=1#snap", "snap:x?channel=1&track=2", "https://e/x",
	} {
		if _, _, err := parseSnapURL(raw); err == nil {
			t.Errorf("parseSnapURL(%q) accepted", raw)
		}
	}
	// The built-in profiles' snaps are all well formed.
	n := 0
	for _, name := range profiles.All() {
		p, _ := profiles.Get(name)
		for _, a := range p.Artifacts {
			if !IsSnapURL(a.URL) {
				continue
			}
			n++
			if _, _, err := parseSnapURL(artifacts.Expand(a.URL, p.DefaultVersion)); err != nil {
				t.Errorf("%s: %s: %v", name, a.Path, err)
			}
		}
	}
	if n == 0 {
		t.Error("no built-in profile declares a snap")
	}
}

func TestCheckSnapAssertion(t *testing.T) {
	dir := t.TempDir()
	body := "hsqs body"
	write(t, filepath.Join(dir, "a.snap"), body)
	for name, c := range map[string]struct{ assert, want string }{
		"matches":        {snapAssertion(body, 7), ""},
		"other revision": {snapAssertion("hsqs other", 8), "is not the snap a.assert asserts"},
		"no revision":    {"type: account-key\nauthority-id: canonical\n\nsig\n", "holds no snap-revision assertion"},
		"crlf":           {strings.ReplaceAll(snapAssertion(body, 9), "\n", "\r\n"), ""},
	} {
		write(t, filepath.Join(dir, "a.assert"), c.assert)
		rev, err := checkSnapAssertion(filepath.Join(dir, "a.snap"), filepath.Join(dir, "a.assert"))
		switch {
		case c.want == "" && (err != nil || rev == ""):
			t.Errorf("%s: revision %q, %v", name, rev, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error containing %q", name, err, c.want)
		}
	}
}
