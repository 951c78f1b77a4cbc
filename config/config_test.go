package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testHooks are the hooks of the test profiles, as the real ones have them.
var testHooks = map[string][]string{"docker": {"install", "ready", "version", "workload", "workloadReady", "api"}}

func testSource(t *testing.T) Source {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "disk.qcow2"), []byte("QFI\xfb"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"bare": true, "docker": true}
	return Source{Project: "footprint", Stack: "t", ProjectDir: dir,
		ProfileExists: func(n string) bool { return known[n] }, DefaultProfiles: []string{"bare"},
		ProfileHooks: func(n string) []string { return testHooks[n] },
		Backends:     []string{"aws", "libvirt"}, DefaultBackend: "libvirt"}
}

func TestDefaults(t *testing.T) {
	e, err := Parse(nil, testSource(t))
	if err != nil {
		t.Fatal(err)
	}
	if e.Backend != "libvirt" || len(e.BackendConfig) != 0 || e.Image != DefaultImage ||
		e.VCPUs != 1 || e.MemoryMiB != 1024 || e.Samples != 5 || e.Settle != time.Minute ||
		len(e.Profiles) != 1 || e.Profiles[0] != "bare" {
		t.Errorf("defaults: %+v", e)
	}
	if !e.NetworkCIDR.Addr().IsPrivate() || e.NetworkCIDR.Bits() != 24 {
		t.Errorf("default CIDR %s", e.NetworkCIDR)
	}
}

func TestValuesAreRead(t *testing.T) {
	src := testSource(t)
	e, err := Parse(map[string]string{
		"backend": "aws", "libvirt": `{"uri":"qemu+ssh://lab/system"}`, "image": "disk.qcow2",
		"imageSha256": "sha256:" + strings.Repeat("AB", 32), "networkCidr": "192.168.77.0/24",
		"profiles": `["docker","bare"]`, "vcpus": "2", "memoryMiB": "512", "settle": "30s", "samples": "4",
		"sampleInterval": "2s", "collectDeadline": "90m",
	}, src)
	if err != nil {
		t.Fatal(err)
	}
	if e.Image != filepath.Join(src.ProjectDir, "disk.qcow2") {
		t.Errorf("relative image not anchored at the project: %s", e.Image)
	}
	if e.ImageSHA256 != strings.Repeat("ab", 32) || e.NetworkCIDR.String() != "192.168.77.0/24" ||
		strings.Join(e.Profiles, ",") != "docker,bare" || e.VCPUs != 2 || e.MemoryMiB != 512 ||
		e.Settle != 30*time.Second || e.Samples != 4 || e.CollectDeadline != 90*time.Minute ||
		e.Backend != "aws" || e.BackendConfig["libvirt"] != `{"uri":"qemu+ssh://lab/system"}` {
		t.Errorf("parsed: %+v", e)
	}
	e, err = Parse(map[string]string{"settleToleranceMiB": "3", "settleWindow": "90s", "settleMax": "5m"}, src)
	if err != nil || e.SettleToleranceMiB != 3 || e.SettleWindow != 90*time.Second || e.SettleMax != 5*time.Minute {
		t.Errorf("settle rule: %+v %v", e, err)
	}
	// comma-separated lists work too (for --set)
	e, err = Parse(map[string]string{"profiles": "bare, docker"}, src)
	if err != nil || strings.Join(e.Profiles, ",") != "bare,docker" {
		t.Errorf("comma list: %v %v", e.Profiles, err)
	}
}

func TestMalformedStacksFailWithOneLineNamingTheKey(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]string
		key    string // the key the message must name
		hint   string // and a word of what is allowed
	}{
		{"unknown profile", map[string]string{"profiles": `["bare","k9s"]`}, "profiles", "k9s"},
		{"duplicate profile", map[string]string{"profiles": "bare,bare"}, "profiles", "twice"},
		{"empty profile list", map[string]string{"profiles": "[]"}, "profiles", "at least one"},
		{"empty profile name", map[string]string{"profiles": "bare,,docker"}, "profiles", "empty name"},
		{"profiles not a list", map[string]string{"profiles": `["bare"`}, "profiles", "list"},
		{"memory zero", map[string]string{"memoryMiB": "0"}, "memoryMiB", "want 128 to"},
		{"memory negative", map[string]string{"memoryMiB": "-1024"}, "memoryMiB", "want 128 to"},
		{"memory not a number", map[string]string{"memoryMiB": "1GiB"}, "memoryMiB", "whole number"},
		{"memory below the least", map[string]string{"memoryMiB": "127"}, "memoryMiB", "want 128 to"},
		{"vcpus zero", map[string]string{"vcpus": "0"}, "vcpus", "1 to"},
		{"vcpus fraction", map[string]string{"vcpus": "1.5"}, "vcpus", "whole number"},
		{"samples zero", map[string]string{"samples": "0"}, "samples", "1 to"},
		{"bad CIDR", map[string]string{"networkCidr": "10.0.0.300/24"}, "networkCidr", "IPv4 CIDR"},
		{"CIDR with host bits", map[string]string{"networkCidr": "10.1.2.3/24"}, "networkCidr", "10.1.2.0/24"},
		{"public CIDR", map[string]string{"networkCidr": "8.8.8.0/24"}, "networkCidr", "private"},
		{"IPv6 CIDR", map[string]string{"networkCidr": "fd00::/64"}, "networkCidr", "IPv4"},
		{"subnet too small for the nodes", map[string]string{"networkCidr": "10.1.2.0/29", "profiles": "bare,docker"}, "networkCidr", "needs 2"},
		{"unknown backend", map[string]string{"backend": "vmware"}, "backend", "aws, libvirt"},
		{"backend section not a map", map[string]string{"libvirt": "qemu:///system"}, "libvirt", "map of the backend's keys"},
		{"backend section a list", map[string]string{"libvirt": `["qemu:///system"]`}, "libvirt", "map of the backend's keys"},
		{"key of an earlier version", map[string]string{"libvirtUri": "qemu:///system"}, "libvirtUri", "moved to footprint:libvirt.uri"},
		{"pool path of an earlier version", map[string]string{"poolPath": "/srv"}, "poolPath", "moved to footprint:libvirt.poolPath"},
		{"image missing file", map[string]string{"image": "nope.qcow2"}, "image", "does not exist"},
		{"image is a folder", map[string]string{"image": "adir"}, "image", "regular file"},
		{"image bad URL scheme", map[string]string{"image": "ftp://example.org/x.img"}, "image", "http(s)"},
		{"image bad URL with a password", map[string]string{"image": "ftp://ops:hunter2@example.org/x.img"}, "image", `"ftp://ops:REDACTED@example.org/x.img" is neither`},
		{"image empty", map[string]string{"image": ""}, "image", "empty"},
		{"bad sha256", map[string]string{"imageSha256": "abc"}, "imageSha256", "64 hex"},
		{"settle not a duration", map[string]string{"settle": "60"}, "settle", "duration"},
		{"settle negative", map[string]string{"settle": "-5s"}, "settle", "out of range"},
		{"interval zero", map[string]string{"sampleInterval": "0s"}, "sampleInterval", "out of range"},
		{"deadline zero", map[string]string{"collectDeadline": "0s"}, "collectDeadline", "out of range"},
		{"deadline shorter than settle plus samples", map[string]string{"settle": "50m", "collectDeadline": "30m"}, "collectDeadline", "30m0s is not longer than the agent of bare may take within its bounds (50m25s: settle 50m0s + samples × sampleInterval 25s)"},
		{"settle tolerance zero", map[string]string{"settleToleranceMiB": "0"}, "settleToleranceMiB", "out of range"},
		{"settle window too short", map[string]string{"settleWindow": "1s"}, "settleWindow", "out of range"},
		{"settle cap below window", map[string]string{"settleToleranceMiB": "3", "settleWindow": "2m", "settleMax": "1m"}, "settleMax", "never be met"},
		{"deadline shorter than the settle cap", map[string]string{"settleToleranceMiB": "3", "settleMax": "2h", "collectDeadline": "90m"}, "collectDeadline", "settle + settleMax 2h1m0s"},
		{"typo", map[string]string{"memoryMib": "1024"}, "memoryMib", "did you mean memoryMiB"},
		{"unknown key", map[string]string{"colour": "blue"}, "colour", "known keys"},
		{"disk too small", map[string]string{"diskGiB": "1"}, "diskGiB", "2 to"},
		{"version of an unknown profile", map[string]string{"versions": `{"k9s":"1.0"}`}, "versions", "k9s"},
		{"version with a quote", map[string]string{"versions": `{"docker":"29'; rm -rf /"}`}, "versions", `docker: "29'; rm -rf /" is not a version`},
		{"version with a command", map[string]string{"versions": `{"docker":"v1; touch x"}`}, "versions", `docker: "v1; touch x" is not a version (letters, digits and . + - _ / : ~ only`},
		{"version with a space", map[string]string{"versions": `{"docker":"29 8"}`}, "versions", "docker"},
		{"version with a pipe", map[string]string{"versions": "docker=29|sh"}, "versions", "is not a version"},
		{"version with an ampersand", map[string]string{"versions": `{"bare":"1&&x"}`}, "versions", "bare"},
		{"version with a dollar", map[string]string{"versions": `{"docker":"$(id)"}`}, "versions", "is not a version"},
		{"version with a double quote", map[string]string{"versions": `{"docker":"29\"x"}`}, "versions", "is not a version"},
		{"version with a backslash", map[string]string{"versions": `{"docker":"29\\x"}`}, "versions", "is not a version"},
		{"version with a newline", map[string]string{"versions": `{"docker":"29\nx"}`}, "versions", "is not a version"},
		{"version with a backtick", map[string]string{"versions": "{\"docker\":\"`id`\"}"}, "versions", "is not a version"},
		{"version with a redirection", map[string]string{"versions": `{"docker":"29>x"}`}, "versions", "is not a version"},
		{"version with parentheses", map[string]string{"versions": `{"docker":"(29)"}`}, "versions", "is not a version"},
		{"version with a glob", map[string]string{"versions": `{"docker":"29.*"}`}, "versions", "is not a version"},
		{"version with a question mark", map[string]string{"versions": `{"docker":"29.?"}`}, "versions", "is not a version"},
		{"version that is an option", map[string]string{"versions": `{"docker":"--allow-downgrades"}`}, "versions", "starting with a letter or digit"},
		{"version that is a YAML null", map[string]string{"versions": `{"docker":null}`}, "versions", "is not a version"},
		{"versions not a map", map[string]string{"versions": "docker"}, "versions", "profile=version"},
		{"bad workload image", map[string]string{"workloadImage": "MySQL 8"}, "workloadImage", "image reference"},
		{"preinstalled unknown", map[string]string{"preinstalled": "podman"}, "preinstalled", "podman"},
		{"preinstalled not run", map[string]string{"preinstalled": "docker"}, "preinstalled", "not among"},
		{"api attempts zero", map[string]string{"apiAttempts": "0"}, "apiAttempts", "1 to"},
		{"api timeout zero", map[string]string{"apiTimeout": "0s"}, "apiTimeout", "out of range"},
		{"install timeout tiny", map[string]string{"installTimeout": "5s"}, "installTimeout", "out of range"},
		{"ready timeout negative", map[string]string{"readyTimeout": "-1m"}, "readyTimeout", "out of range"},
		{"workload timeout not a duration", map[string]string{"workloadTimeout": "soon"}, "workloadTimeout", "duration"},
		{"repeats zero", map[string]string{"repeats": "0"}, "repeats", "1 to"},
		{"repeats not a number", map[string]string{"repeats": "three"}, "repeats", "whole number"},
		{"sweep sizes duplicated", map[string]string{"memorySizesMiB": "[512, 1024, 512]"}, "memorySizesMiB", "twice"},
		{"sweep size too small", map[string]string{"memorySizesMiB": "[64, 1024]"}, "memorySizesMiB", "want 128 to"},
		{"sweep size not a number", map[string]string{"memorySizesMiB": `["1G"]`}, "memorySizesMiB", "whole number"},
		{"sweep not a list", map[string]string{"memorySizesMiB": "[1G]"}, "memorySizesMiB", "not a list"},
		{"sweep empty", map[string]string{"memorySizesMiB": "[]"}, "memorySizesMiB", "empty"},
		{"sweep and single size", map[string]string{"memorySizesMiB": "[512]", "memoryMiB": "1024"}, "memorySizesMiB", "not both"},
		{"soak not a duration", map[string]string{"soak": "2 hours"}, "soak", "not a duration"},
		{"soak without a unit", map[string]string{"soak": "120"}, "soak", "not a duration"},
		{"soak too short", map[string]string{"soak": "30s"}, "soak", "want 1m0s to 72h0m0s"},
		{"soak too long", map[string]string{"soak": "73h"}, "soak", "want 1m0s to 72h0m0s"},
		{"soak negative", map[string]string{"soak": "-1h"}, "soak", "out of range"},
		{"deadline shorter than the soak", map[string]string{"soak": "2h", "collectDeadline": "90m"}, "collectDeadline", "soak 2h0m0s"},
		{"matrix too big for the subnet", map[string]string{"networkCidr": "10.1.2.0/28", "repeats": "3", "profiles": "bare,docker"}, "networkCidr", "needs 6"},
	}
	if len(cases) < 20 {
		t.Fatalf("only %d malformed inputs covered", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.values, testSource(t))
			if err == nil {
				t.Fatalf("accepted %v", c.values)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			if !strings.HasPrefix(msg, "footprint:"+c.key+": ") {
				t.Errorf("message %q does not start with the key footprint:%s", msg, c.key)
			}
			if !strings.Contains(msg, c.hint) {
				t.Errorf("message %q lacks %q", msg, c.hint)
			}
		})
	}
}

func TestSSHKey(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSecrets(map[string]string{"sshPrivateKey": string(pem.EncodeToMemory(block))})
	if err != nil || !strings.HasPrefix(s.SSHAuthorizedKey, "ssh-ed25519 ") {
		t.Fatalf("authorized key %q, err %v", s.SSHAuthorizedKey, err)
	}
	_, err = ParseSecrets(map[string]string{"sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nbroken\n"})
	if err == nil || !strings.HasPrefix(err.Error(), "footprint:sshPrivateKey: ") || strings.Contains(err.Error(), "broken") {
		t.Errorf("err = %v", err)
	}
}

func TestPasswordErrorsNeverEchoTheValue(t *testing.T) {
	bad := "this one has spaces and 'quotes'"
	_, err := ParseSecrets(map[string]string{"mysqlPassword": bad})
	if err == nil || strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "quotes") {
		t.Errorf("err = %v", err)
	}
	_, err = ParseSecrets(map[string]string{"mysqlPassword": "hunter2"})
	if err == nil || !strings.HasPrefix(err.Error(), "footprint:mysqlPassword: ") || !strings.Contains(err.Error(), "at least 12") {
		t.Errorf("short password: %v", err)
	}
}

// A run's secrets are its own: Parse leaves them to ParseSecrets, and
// NewSecrets makes a set that ParseSecrets accepts, different each time.
func TestSecretsAreTheirOwn(t *testing.T) {
	a, err := NewSecrets("run-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecrets("run-b")
	if err != nil {
		t.Fatal(err)
	}
	if a.WorkloadPassword == "" || a.WorkloadPassword == b.WorkloadPassword || a.SSHHostKey == b.SSHHostKey ||
		!strings.HasPrefix(a.SSHAuthorizedKey, "ssh-ed25519 ") || !strings.HasPrefix(a.SSHHostPublicKey, "ssh-ed25519 ") {
		t.Errorf("secrets %+v and %+v", a, b)
	}
	if _, err := Parse(map[string]string{"mysqlPassword": a.WorkloadPassword}, testSource(t)); err != nil {
		t.Errorf("a secret among the values: %v", err)
	}
}

// Run control is an option of the run: the keys earlier versions used for
// it are refused, naming what says it now.
func TestRunControlIsNoConfiguration(t *testing.T) {
	for key, want := range map[string]string{"only": "footprint run --only", "placement": "places each wave"} {
		_, err := Parse(map[string]string{key: `["bare"]`}, testSource(t))
		if err == nil || !strings.HasPrefix(err.Error(), "footprint:"+key+": no configuration key") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", key, err)
		}
	}
}

func TestVersionsAndPreinstalled(t *testing.T) {
	e, err := Parse(map[string]string{"profiles": "bare,docker", "versions": "docker=27.5.1", "preinstalled": `["docker"]`}, testSource(t))
	if err != nil {
		t.Fatal(err)
	}
	if e.Version("docker", "29.8.1") != "27.5.1" || e.Version("bare", "") != "" || !e.Preinstalled["docker"] || e.Preinstalled["bare"] {
		t.Errorf("%+v", e)
	}
}

func TestVersionsInUseAreAccepted(t *testing.T) {
	for _, v := range []string{"v1.36.4+k3s1", "v1.36.4+k0s.1", "1.36/stable", "latest/edge", "29.8.1",
		"5:29.8.1-1~ubuntu.24.04~noble", "v1.36.3", "1.36.3-1.1", "v1.31.4_rc1", ""} {
		e, err := Parse(map[string]string{"profiles": "bare,docker", "versions": fmt.Sprintf(`{"docker":%q}`, v)}, testSource(t))
		if err != nil {
			t.Errorf("version %q refused: %v", v, err)
			continue
		}
		if got := e.Version("docker", "29.8.1"); got != v {
			t.Errorf("version %q read as %q", v, got)
		}
	}
}

func TestDefaultCIDRDiffersPerStack(t *testing.T) {
	seen := map[string]string{}
	for _, s := range []string{"local", "ci", "a", "b", "ci2", "nightly"} {
		p := DefaultCIDR("footprint", s).String()
		if other, dup := seen[p]; dup {
			t.Errorf("stacks %s and %s share %s", s, other, p)
		}
		seen[p] = s
	}
}

func TestReadStackFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Pulumi.x.yaml")
	content := "config:\n  footprint:profiles:\n    - bare\n    - docker\n  footprint:memoryMiB: 2048\n  footprint:settle: 30s\n  libvirt:uri: ignored\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := ReadStackFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v["profiles"] != `["bare","docker"]` || v["memoryMiB"] != "2048" || v["settle"] != "30s" || len(v) != 3 {
		t.Errorf("values %v", v)
	}
	if err := ParseOverrides(v, []string{"footprint:memoryMiB=512", "samples=2"}); err != nil || v["memoryMiB"] != "512" || v["samples"] != "2" {
		t.Errorf("overrides: %v %v", v, err)
	}
	// a key of a section, as pulumi config set --path would set it
	if err := ParseOverrides(v, []string{"libvirt.uri=qemu+ssh://lab/system", "footprint:libvirt.domainType=qemu"}); err != nil ||
		v["libvirt"] != `{"domainType":"qemu","uri":"qemu+ssh://lab/system"}` {
		t.Errorf("section overrides: %v %v", v["libvirt"], err)
	}
	v["aws"] = "not a map"
	if err := ParseOverrides(v, []string{"aws.region=eu-west-1"}); err == nil || !strings.Contains(err.Error(), "footprint:aws is not a map") {
		t.Errorf("override into a scalar accepted: %v", err)
	}
	if err := ParseOverrides(v, []string{".uri=x"}); err == nil || !strings.Contains(err.Error(), "SECTION.KEY=VALUE") {
		t.Errorf("empty section accepted: %v", err)
	}
	if err := ParseOverrides(v, []string{"justakey"}); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
		t.Errorf("bad override accepted: %v", err)
	}
	if _, err := ReadStackFile(filepath.Join(dir, "none.yaml")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("config:\n  footprint:samples: [1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStackFile(path); err == nil {
		t.Error("broken YAML accepted")
	}
}

// A version written as a YAML number is refused where its literal is still
// known, naming the key; quoted, it reaches the guest as written.
func TestReadStackFileRefusesVersionsWrittenAsNumbers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Pulumi.v.yaml")
	for _, c := range []struct{ versions, want string }{
		{"{docker: 27.0}", `footprint:versions.docker: 27.0 is a YAML number; quote it ("27.0")`},
		{"\n    bare: \"\"\n    microk8s: 1.30", `footprint:versions.microk8s: 1.30 is a YAML number; quote it ("1.30")`},
		{"{docker: 29}", `footprint:versions.docker: 29 is a YAML number; quote it ("29")`},
	} {
		if err := os.WriteFile(path, []byte("config:\n  footprint:versions: "+c.versions+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadStackFile(path); err == nil || err.Error() != c.want {
			t.Errorf("versions %s: err = %v, want %s", c.versions, err, c.want)
		}
	}
	if err := os.WriteFile(path, []byte("config:\n  footprint:versions: {docker: \"27.0\", microk8s: '1.30'}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := ReadStackFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := testSource(t)
	src.ProfileExists = func(string) bool { return true }
	e, err := Parse(v, src)
	if err != nil || e.Version("docker", "") != "27.0" || e.Version("microk8s", "") != "1.30" {
		t.Errorf("quoted versions: %v, %v", e.Versions, err)
	}
}

// Under plain pulumi up the CLI hands the map over as JSON, the literal
// already lost: a number is refused there too, never rewritten.
func TestVersionAsAJSONNumberIsRefused(t *testing.T) {
	_, err := Parse(map[string]string{"versions": `{"docker":27}`}, testSource(t))
	if err == nil || !strings.HasPrefix(err.Error(), "footprint:versions: docker: 27 is a number") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %v", err)
	}
}

func TestRepositoryStacksAreValid(t *testing.T) {
	for _, stack := range []string{"local", "aws", "tuning", "smallest"} { // ci needs the built test image: the e2e tests cover it
		root, _ := filepath.Abs("..")
		v, err := ReadStackFile(StackFile(root, stack))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(v, Source{Project: "footprint", Stack: stack, ProjectDir: root, Backends: []string{"libvirt", "aws"}}); err != nil {
			t.Errorf("stack %s: %v", stack, err)
		}
	}
}

// collectDeadline must outlast every phase the agent of each system may
// take by the stack's bounds, in the agent's order: a profile's missing
// hooks count nothing, a preinstalled system installs nothing, and the
// workload's start and its readiness each have workloadTimeout. Left out,
// it is their sum plus the boot allowance.
func TestCollectDeadlineOutlastsThePhases(t *testing.T) {
	bounds := map[string]string{"installTimeout": "30m", "readyTimeout": "10m", "workloadTimeout": "10m", "settle": "30s",
		"samples": "3", "sampleInterval": "5s", "apiAttempts": "5", "apiTimeout": "10s"}
	with := func(more map[string]string) map[string]string {
		v := map[string]string{}
		for _, m := range []map[string]string{bounds, more} {
			for k, x := range m {
				v[k] = x
			}
		}
		return v
	}
	// docker: 30m + 10m + 1m (version) + 45s + 10m + 10m + 45s + 5 × 15s + 4 × 1s
	const need = 63*time.Minute + 49*time.Second
	_, err := Parse(with(map[string]string{"profiles": "docker", "collectDeadline": "60m"}), testSource(t))
	if err == nil || !strings.HasPrefix(err.Error(), "footprint:collectDeadline: 1h0m0s is not longer than the agent of docker may take within its bounds (1h3m49s: ") ||
		!strings.Contains(err.Error(), "workloadTimeout 10m0s + workloadTimeout 10m0s") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %v", err)
	}
	for _, ok := range []map[string]string{
		{"profiles": "docker", "collectDeadline": "64m"},
		{"profiles": "bare", "collectDeadline": "1m"},                                                                   // no hooks: settle and samples
		{"profiles": "docker", "preinstalled": "docker", "collectDeadline": "34m"},                                      // no install
		{"profiles": "bare,d2", "variants": `{"d2":{"profile":"docker","options":["lean"]}}`, "collectDeadline": "64m"}, // a variant: its profile's hooks
	} {
		src := testSource(t)
		src.ProfileOptions = func(string) []string { return []string{"lean"} }
		if _, err := Parse(with(ok), src); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	src := testSource(t)
	src.ProfileOptions = func(string) []string { return []string{"lean"} }
	_, err = Parse(with(map[string]string{"profiles": "bare,d2", "variants": `{"d2":{"profile":"docker","options":["lean"]}}`, "collectDeadline": "60m"}), src)
	if err == nil || !strings.Contains(err.Error(), "the agent of d2 may take within its bounds (1h3m49s") {
		t.Errorf("a variant: err = %v, want its profile's phases", err)
	}
	e, err := Parse(with(map[string]string{"profiles": "bare,docker"}), testSource(t))
	if err != nil || e.CollectDeadline != need+bootAllowance {
		t.Errorf("unset: %s (%v), want %s", e.CollectDeadline, err, need+bootAllowance)
	}
	// Without the profiles' hooks, every phase counts.
	src = testSource(t)
	src.ProfileHooks = nil
	if _, err := Parse(with(map[string]string{"profiles": "bare", "collectDeadline": "60m"}), src); err == nil {
		t.Error("a deadline shorter than every phase accepted with the hooks unknown")
	}
}

// footprint:soak: off when absent or 0s, else 1m to 72h; the soak is the
// agent's last phase, so collectDeadline must outlast it too.
func TestSoakIsReadAndBoundsTheDeadline(t *testing.T) {
	src := testSource(t)
	e, err := Parse(nil, src)
	if err != nil || e.Soak != 0 {
		t.Fatalf("absent: soak %s (%v), want 0", e.Soak, err)
	}
	if phases := e.agentPhases("bare", src); slices.ContainsFunc(phases, func(p phaseBound) bool { return p.what == KeySoak }) {
		t.Errorf("no soak, yet a soak phase: %v", phases)
	}
	for raw, want := range map[string]time.Duration{"0s": 0, "0": 0, "1m": time.Minute, "3m": 3 * time.Minute, "2h": 2 * time.Hour, "72h": 72 * time.Hour} {
		e, err := Parse(map[string]string{"soak": raw}, src)
		if err != nil || e.Soak != want {
			t.Errorf("soak %q: %s (%v), want %s", raw, e.Soak, err, want)
		}
	}
	base, err := Parse(map[string]string{"profiles": "bare,docker"}, src)
	if err != nil {
		t.Fatal(err)
	}
	e, err = Parse(map[string]string{"profiles": "bare,docker", "soak": "2h"}, src)
	if err != nil || e.CollectDeadline != base.CollectDeadline+2*time.Hour {
		t.Errorf("unset deadline with a 2h soak: %s (%v), want %s", e.CollectDeadline, err, base.CollectDeadline+2*time.Hour)
	}
	// The soak comes last, after the API probe of a system with a workload
	// and after the idle samples of one without.
	for _, name := range []string{"bare", "docker"} {
		ps := e.agentPhases(name, src)
		if last := ps[len(ps)-1]; last.what != KeySoak || last.d != 2*time.Hour {
			t.Errorf("%s: last phase %v, want the soak", name, last)
		}
	}
	// A 72 h soak fits a deadline that may be set above a day.
	if _, err := Parse(map[string]string{"soak": "72h", "collectDeadline": "80h"}, src); err != nil {
		t.Errorf("72h soak, 80h deadline: %v", err)
	}
}
