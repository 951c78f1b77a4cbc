// Package config is the typed form of a footprint stack: every key of the
// "footprint" configuration namespace, its default, and the rules it must
// satisfy. Parsing validates everything before any resource exists, so a bad
// stack fails with one line that names the key.
package config

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/internal/redact"
)

// Namespace is the Pulumi configuration namespace of every footprint key.
const Namespace = "footprint"

// DefaultImage is the image of the seed experiment: Ubuntu 24.04 Minimal.
const DefaultImage = "https://cloud-images.ubuntu.com/minimal/releases/noble/release/ubuntu-24.04-minimal-cloudimg-amd64.img"

// Keys of the footprint namespace, as written in a stack file without the
// "footprint:" prefix.
const (
	KeyBackend         = "backend"
	KeyImage           = "image"
	KeyImageSHA256     = "imageSha256"
	KeyNetworkCIDR     = "networkCidr"
	KeyProfiles        = "profiles"
	KeyVCPUs           = "vcpus"
	KeyMemoryMiB       = "memoryMiB"
	KeySettle          = "settle"
	KeySettleTolerance = "settleToleranceMiB"
	KeySettleWindow    = "settleWindow"
	KeySettleMax       = "settleMax"
	KeySamples         = "samples"
	KeySampleInterval  = "sampleInterval"
	KeyCollectDeadline = "collectDeadline"
	KeyVersions        = "versions"
	KeyWorkloadImage   = "workloadImage"
	KeyPreinstalled    = "preinstalled"
	KeyInstallTimeout  = "installTimeout"
	KeyReadyTimeout    = "readyTimeout"
	KeyWorkloadTimeout = "workloadTimeout"
	KeyAPIAttempts     = "apiAttempts"
	KeyAPITimeout      = "apiTimeout"
	KeyMySQLPassword   = "mysqlPassword" // Secrets.WorkloadPassword, whatever the workload
	KeyDiskGiB         = "diskGiB"
	KeyRepeats         = "repeats"
	KeyMemorySizesMiB  = "memorySizesMiB"
	KeySSHPrivateKey   = "sshPrivateKey"
	KeyArtifacts       = "artifacts"
	KeySSHHostKey      = "sshHostKey"
	KeyCollect         = "collect"
	KeySoak            = "soak"
)

// Collectors are the ways a node's result can be fetched: straight from the
// agent's HTTP port, or through the guest's SSH server with a pinned host
// key. "" lets the backend choose (HTTP where the port is reachable).
const (
	CollectHTTP = "http"
	CollectSSH  = "ssh"
)

// DefaultWorkloadImage is the MySQL the seed deployed: 8.x, here the LTS.
const DefaultWorkloadImage = "mysql:8.4"

// Experiment is one stack's validated configuration.
type Experiment struct {
	// Backend names the machine backend that creates the nodes.
	Backend string
	// BackendConfig holds, by backend name, the section of that backend's
	// own keys as a JSON object (footprint:libvirt: {uri: ...}); the backend
	// parses and validates it, configuration only checks its shape.
	BackendConfig map[string]string
	Image         string // URL or absolute local path
	ImageSHA256   string // expected digest; empty when not pinned
	NetworkCIDR   netip.Prefix
	Profiles      []string
	VCPUs         int
	MemoryMiB     int
	// MemorySizesMiB is the sweep; a single size unless the stack sets it.
	MemorySizesMiB []int
	Repeats        int
	DiskGiB        int
	Settle         time.Duration
	// SettleToleranceMiB > 0 is the settle rule: after Settle, wait until
	// used stays within it over SettleWindow, for at most SettleMax.
	SettleToleranceMiB int
	SettleWindow       time.Duration
	SettleMax          time.Duration
	Samples            int
	SampleInterval     time.Duration
	CollectDeadline    time.Duration
	// Versions override profiles' default versions, by profile name.
	Versions        map[string]string
	WorkloadImage   string
	Preinstalled    map[string]bool // profiles whose system the image already has
	InstallTimeout  time.Duration
	ReadyTimeout    time.Duration
	WorkloadTimeout time.Duration
	APIAttempts     int
	APITimeout      time.Duration
	// Collect is the collector: CollectHTTP, CollectSSH, or "" for the
	// backend's choice.
	Collect string
	// Variants are the stack's variants by name; footprint:profiles lists
	// them beside the profiles.
	Variants map[string]Variant
	// Artifacts names, by profile, a local folder with that profile's
	// offline install (absolute path): the profile then installs from it,
	// without any network.
	Artifacts map[string]string
	// Search, when set, asks for each system's smallest working size: its
	// grid is the experiment's sizes, of which a run tries some.
	Search *Search
	// Soak, when not 0, is how long each node's agent keeps reading used
	// memory after its last measured phase (phase soak), for the growth
	// rate and its verdict (results.Growth).
	Soak time.Duration
}

// Bounds that keep an experiment meaningful. At MinMemoryMiB a Debian 12
// cloud kernel panics unpacking its initramfs ("System is deadlocked on
// memory", 2026-12-07): a size a search may well try, since the collector
// sees the panic on the console and records the failure at once; below it
// there is nothing more to learn.
const (
	MinMemoryMiB = 128
	MaxMemoryMiB = 1 << 20
	MaxVCPUs     = 256
	MaxSamples   = 1000
	MaxRepeats   = 50
	MinSubnetLen = 8
	MaxSubnetLen = 29
	// A soak shorter than MinSoak has too few readings to tell a slope from
	// noise; MaxSoak is three days.
	MinSoak = time.Minute
	MaxSoak = 72 * time.Hour
)

var (
	sha256Pattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	imageRefPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*$`)
	passwordPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Known reports whether key belongs to the footprint namespace: a key of
// its own, or the section of one of the source's backends.
func (src Source) Known(key string) bool {
	_, ok := parsers[key]
	_, secret := secretParsers[key]
	return ok || secret || slices.Contains(src.Backends, key)
}

// KnownKeys lists every key, sorted, for error messages and for reading
// configuration one key at a time.
func (src Source) KnownKeys() []string {
	keys := make([]string, 0, len(parsers)+len(secretParsers)+len(src.Backends))
	for k := range parsers {
		keys = append(keys, k)
	}
	for k := range secretParsers {
		keys = append(keys, k)
	}
	keys = append(keys, src.Backends...)
	sort.Strings(keys)
	return keys
}

// moved are keys of earlier versions and where they live now: a stack file
// written for those gets told, not just "unknown key".
// runControl are keys of earlier versions that said what one run does,
// and the option of `footprint run` that says it now.
var runControl = map[string]string{
	"only":      "footprint run --only NODE,...",
	"placement": "the runner places each wave's nodes on the backend's hosts",
}

var moved = map[string]string{
	"libvirtUri": "libvirt.uri",
	"domainType": "libvirt.domainType",
	"poolPath":   "libvirt.poolPath",
}

// Source says where relative paths in the configuration are anchored and
// which stack it is, because defaults derive from the stack's name.
type Source struct {
	Project    string
	Stack      string
	ProjectDir string
	// ProfileExists tells whether a profile name is registered; the registry
	// lives elsewhere so that configuration does not depend on profiles.
	ProfileExists func(string) bool
	// ProfileOptions lists the options a profile declares, for variants.
	ProfileOptions func(string) []string
	// ProfileHooks lists the hooks a profile has (the shared ones too): the
	// phases its agent runs, which collectDeadline must outlast. Without
	// it, every phase counts.
	ProfileHooks func(string) []string
	// BuiltinVariant is the variant a registered name stands for, if it is
	// one (microk8s-noha: microk8s with noHA): listed in footprint:profiles
	// it is planned as a stack's variant.
	BuiltinVariant func(string) (Variant, bool)
	// DefaultProfiles is used when the stack names none.
	DefaultProfiles []string
	// Backends are the names of the registered machine backends; each is
	// also the key of that backend's section. DefaultBackend is used when
	// the stack names none.
	Backends       []string
	DefaultBackend string
}

// Parse turns raw values (keys without namespace) into an Experiment,
// applying defaults, and fails on the first invalid key in sorted key order.
func Parse(values map[string]string, src Source) (Experiment, error) {
	e := defaults(src)
	var unknown []string
	for k := range values {
		if !src.Known(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		if flag, ok := runControl[unknown[0]]; ok {
			return Experiment{}, fmt.Errorf("%s:%s: no configuration key: run control is an option of the run (%s)", Namespace, unknown[0], flag)
		}
		if to, ok := moved[unknown[0]]; ok {
			return Experiment{}, fmt.Errorf("%s:%s: moved to %s:%s (the backend's own section of keys)", Namespace, unknown[0], Namespace, to)
		}
		return Experiment{}, fmt.Errorf("%s:%s: unknown key%s", Namespace, unknown[0], suggest(unknown[0], src))
	}
	for _, k := range src.KnownKeys() {
		raw, ok := values[k]
		if !ok {
			continue
		}
		if slices.Contains(src.Backends, k) {
			if err := section(raw); err != nil {
				return Experiment{}, fmt.Errorf("%s:%s: %w", Namespace, k, err)
			}
			e.BackendConfig[k] = strings.TrimSpace(raw)
			continue
		}
		p, ok := parsers[k]
		if !ok {
			continue // a secret: ParseSecrets reads it
		}
		if err := p(&e, strings.TrimSpace(raw), src); err != nil {
			return Experiment{}, keyError(k, err)
		}
	}
	e.listVariants(values)
	e.addBuiltinVariants(src)
	if err := e.crossCheck(src, values); err != nil {
		return Experiment{}, err
	}
	if err := e.checkDeadline(src, values); err != nil {
		return Experiment{}, err
	}
	return e, nil
}

func defaults(src Source) Experiment {
	return Experiment{
		Backend:         src.DefaultBackend,
		BackendConfig:   map[string]string{},
		Image:           DefaultImage,
		NetworkCIDR:     DefaultCIDR(src.Project, src.Stack),
		Profiles:        append([]string(nil), src.DefaultProfiles...),
		VCPUs:           1,
		MemoryMiB:       1024,
		DiskGiB:         10,
		Repeats:         1,
		Settle:          60 * time.Second,
		SettleWindow:    60 * time.Second,
		SettleMax:       10 * time.Minute,
		Samples:         5,
		SampleInterval:  5 * time.Second,
		Versions:        map[string]string{},
		WorkloadImage:   DefaultWorkloadImage,
		Preinstalled:    map[string]bool{},
		Artifacts:       map[string]string{},
		InstallTimeout:  30 * time.Minute,
		ReadyTimeout:    15 * time.Minute,
		WorkloadTimeout: 15 * time.Minute,
		APIAttempts:     5,
		APITimeout:      10 * time.Second,
	}
}

// DefaultCIDR gives each project/stack pair its own /24 in 10.64.0.0/10, so
// that two stacks on one host do not ask for the same subnet.
func DefaultCIDR(project, stack string) netip.Prefix {
	h := fnv.New32a()
	_, _ = h.Write([]byte(project + "/" + stack))
	v := h.Sum32()
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(64 + v%64), byte(v >> 8), 0}), 24)
}

type parser func(e *Experiment, raw string, src Source) error

var parsers = map[string]parser{
	KeyBackend: func(e *Experiment, raw string, src Source) error {
		if !slices.Contains(src.Backends, raw) {
			return fmt.Errorf("%q is not a backend (want one of: %s)", raw, strings.Join(src.Backends, ", "))
		}
		e.Backend = raw
		return nil
	},
	KeyImage: func(e *Experiment, raw string, src Source) error {
		img, err := resolveImage(raw, src.ProjectDir)
		if err != nil {
			return err
		}
		e.Image = img
		return nil
	},
	KeyImageSHA256: func(e *Experiment, raw string, _ Source) error {
		raw = strings.ToLower(strings.TrimPrefix(raw, "sha256:"))
		if !sha256Pattern.MatchString(raw) {
			return fmt.Errorf("%q is not a sha256 digest (want 64 hex digits)", raw)
		}
		e.ImageSHA256 = raw
		return nil
	},
	KeyNetworkCIDR: func(e *Experiment, raw string, _ Source) error {
		p, err := netip.ParsePrefix(raw)
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("%q is not an IPv4 CIDR (want e.g. 10.77.0.0/24)", raw)
		}
		if p.Bits() < MinSubnetLen || p.Bits() > MaxSubnetLen {
			return fmt.Errorf("prefix length /%d is out of range (want /%d to /%d)", p.Bits(), MinSubnetLen, MaxSubnetLen)
		}
		if p.Masked() != p {
			return fmt.Errorf("%q has host bits set (did you mean %s?)", raw, p.Masked())
		}
		if !p.Addr().IsPrivate() {
			return fmt.Errorf("%q is not a private range (want a subnet of 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)", raw)
		}
		e.NetworkCIDR = p
		return nil
	},
	KeyProfiles: func(e *Experiment, raw string, src Source) error {
		names, err := stringList(raw)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return fmt.Errorf("is empty (want at least one profile)")
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				return fmt.Errorf("profile %q is listed twice", n)
			}
			seen[n] = true
		}
		// Whether each is a profile or a variant is checked once the
		// variants are read (crossCheck).
		e.Profiles = names
		return nil
	},
	KeyVCPUs: intIn(1, MaxVCPUs, func(e *Experiment, v int) { e.VCPUs = v }),
	KeyMemoryMiB: intIn(MinMemoryMiB, MaxMemoryMiB, func(e *Experiment, v int) {
		e.MemoryMiB = v
	}),
	// Room for a distribution's images and MySQL's; the cloud image's root
	// file system grows to fill the disk at first boot.
	KeyDiskGiB: intIn(2, 2048, func(e *Experiment, v int) { e.DiskGiB = v }),
	KeyRepeats: intIn(1, MaxRepeats, func(e *Experiment, v int) { e.Repeats = v }),
	KeyMemorySizesMiB: func(e *Experiment, raw string, _ Source) error {
		items, err := stringList(raw)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return fmt.Errorf("is empty (want sizes in MiB, e.g. [512, 1024, 2048])")
		}
		seen := map[int]bool{}
		e.MemorySizesMiB = nil
		for _, it := range items {
			v, err := strconv.Atoi(it)
			if err != nil {
				return fmt.Errorf("%q is not a whole number of MiB", it)
			}
			if v < MinMemoryMiB || v > MaxMemoryMiB {
				return fmt.Errorf("%d is out of range (want %d to %d)", v, MinMemoryMiB, MaxMemoryMiB)
			}
			if seen[v] {
				return fmt.Errorf("size %d is listed twice", v)
			}
			seen[v] = true
			e.MemorySizesMiB = append(e.MemorySizesMiB, v)
		}
		return nil
	},
	KeySettle:          durationIn(0, 24*time.Hour, func(e *Experiment, d time.Duration) { e.Settle = d }),
	KeySettleTolerance: intIn(1, MaxMemoryMiB, func(e *Experiment, v int) { e.SettleToleranceMiB = v }),
	KeySettleWindow:    durationIn(10*time.Second, time.Hour, func(e *Experiment, d time.Duration) { e.SettleWindow = d }),
	KeySettleMax:       durationIn(10*time.Second, 24*time.Hour, func(e *Experiment, d time.Duration) { e.SettleMax = d }),
	KeySamples:         intIn(1, MaxSamples, func(e *Experiment, v int) { e.Samples = v }),
	KeySampleInterval:  durationIn(time.Second, time.Hour, func(e *Experiment, d time.Duration) { e.SampleInterval = d }),
	// Up to a longest soak and a day for the rest.
	KeyCollectDeadline: durationIn(time.Minute, MaxSoak+24*time.Hour, func(e *Experiment, d time.Duration) { e.CollectDeadline = d }),
	KeySoak: func(e *Experiment, raw string, _ Source) error {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration (want e.g. 2h or 3m; 0s or none for no soak)", raw)
		}
		if d != 0 && (d < MinSoak || d > MaxSoak) {
			return fmt.Errorf("%s is out of range (want %s to %s, or 0s for no soak)", d, MinSoak, MaxSoak)
		}
		e.Soak = d
		return nil
	},
	KeyVersions: func(e *Experiment, raw string, src Source) error {
		m, err := stringMap(raw)
		if err != nil {
			return err
		}
		// A version reaches the guest's shell and package managers: refuse
		// what no release of these systems has ever been called. Versions in
		// use: v1.36.4+k3s1, v1.36.4+k0s.1, 1.36/stable (a snap channel),
		// 29.8.1, 5:29.8.1-1~ubuntu.24.04~noble (an apt version); empty means
		// the system's latest. The first character is a letter or digit, so
		// that a version is never read as an option.
		versionPattern := regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._+/:~-]*)?$`)
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if err := src.profileKey(name); err != nil {
				return err
			}
			if v := m[name]; !versionPattern.MatchString(v) {
				return fmt.Errorf("%s: %q is not a version (letters, digits and . + - _ / : ~ only, starting with a letter or digit)", name, v)
			}
		}
		e.Versions = m
		return nil
	},
	KeyWorkloadImage: func(e *Experiment, raw string, _ Source) error {
		if !imageRefPattern.MatchString(raw) {
			return fmt.Errorf("%q is not a container image reference (want e.g. mysql:8.4)", raw)
		}
		e.WorkloadImage = raw
		return nil
	},
	KeyPreinstalled: func(e *Experiment, raw string, src Source) error {
		names, err := stringList(raw)
		if err != nil {
			return err
		}
		e.Preinstalled = map[string]bool{}
		for _, n := range names {
			if err := src.profileKey(n); err != nil {
				return err
			}
			e.Preinstalled[n] = true
		}
		return nil
	},
	KeyArtifacts: func(e *Experiment, raw string, src Source) error {
		m, err := stringMap(raw)
		if err != nil {
			return err
		}
		e.Artifacts = map[string]string{}
		for name, dir := range m {
			if err := src.profileKey(name); err != nil {
				return err
			}
			if dir == "" {
				return fmt.Errorf("%s: the folder is empty", name)
			}
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(src.ProjectDir, dir)
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return fmt.Errorf("%s: %s is not a folder", name, dir)
			}
			e.Artifacts[name] = filepath.Clean(dir)
		}
		return nil
	},
	KeyInstallTimeout:  durationIn(time.Minute, 24*time.Hour, func(e *Experiment, d time.Duration) { e.InstallTimeout = d }),
	KeyReadyTimeout:    durationIn(10*time.Second, 24*time.Hour, func(e *Experiment, d time.Duration) { e.ReadyTimeout = d }),
	KeyWorkloadTimeout: durationIn(10*time.Second, 24*time.Hour, func(e *Experiment, d time.Duration) { e.WorkloadTimeout = d }),
	KeyAPIAttempts:     intIn(1, 100, func(e *Experiment, v int) { e.APIAttempts = v }),
	KeyAPITimeout:      durationIn(time.Second, 10*time.Minute, func(e *Experiment, d time.Duration) { e.APITimeout = d }),
	KeyVariants:        parseVariants,
	KeySearch:          parseSearch,
	KeyCollect: func(e *Experiment, raw string, _ Source) error {
		if raw != CollectHTTP && raw != CollectSSH {
			return fmt.Errorf("%q is not a collector (want %s or %s)", raw, CollectHTTP, CollectSSH)
		}
		e.Collect = raw
		return nil
	},
}

func intIn(lo, hi int, set func(*Experiment, int)) parser {
	return func(e *Experiment, raw string, _ Source) error {
		v, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%q is not a whole number (want %d to %d)", raw, lo, hi)
		}
		if v < lo || v > hi {
			return fmt.Errorf("%d is out of range (want %d to %d)", v, lo, hi)
		}
		set(e, v)
		return nil
	}
}

func durationIn(lo, hi time.Duration, set func(*Experiment, time.Duration)) parser {
	return func(e *Experiment, raw string, _ Source) error {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration (want e.g. 30s or 5m)", raw)
		}
		if d < lo || d > hi {
			return fmt.Errorf("%s is out of range (want %s to %s)", d, lo, hi)
		}
		set(e, d)
		return nil
	}
}

// stringList accepts a JSON array (how Pulumi hands over a YAML list) or a
// comma-separated string.
func stringList(raw string) ([]string, error) {
	var out []string
	if strings.HasPrefix(raw, "[") {
		var items []any
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return nil, fmt.Errorf("%q is not a list", raw)
		}
		for _, it := range items {
			switch v := it.(type) {
			case string:
				out = append(out, v)
			case float64:
				out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
			default:
				return nil, fmt.Errorf("%q holds %v, which is neither a name nor a number", raw, it)
			}
		}
	} else if raw != "" {
		out = strings.Split(raw, ",")
	}
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
		if out[i] == "" {
			return nil, fmt.Errorf("%q has an empty name", raw)
		}
	}
	return out, nil
}

// stringMap accepts a JSON object (how Pulumi hands over a YAML map) or
// comma-separated name=value pairs.
func stringMap(raw string) (map[string]string, error) {
	out := map[string]string{}
	if strings.HasPrefix(raw, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("%q is not a map of profile to version", raw)
		}
		for k, v := range m {
			// YAML reads 27.0 as 27 and 1.30 as 1.3: by the time a number
			// is JSON, what was written is lost, so only a string is taken.
			if f, num := v.(float64); num {
				return nil, fmt.Errorf("%s: %s is a number, which YAML may have changed (27.0 reads as 27, 1.30 as 1.3); quote it in the stack file", k, strconv.FormatFloat(f, 'f', -1, 64))
			}
			out[k] = fmt.Sprint(v)
		}
		return out, nil
	}
	for _, pair := range strings.Split(raw, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not profile=version", pair)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// resolveImage accepts an http(s) URL or a local file, relative paths being
// anchored at the project folder.
func resolveImage(raw, projectDir string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("is empty (want an http(s) URL or a local qcow2/img file)")
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", fmt.Errorf("%q is neither an http(s) URL nor a local file", redact.URL(raw))
		}
		return raw, nil
	}
	path := raw
	if !filepath.IsAbs(path) {
		path = filepath.Join(projectDir, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("local image %s does not exist (want an http(s) URL or an existing file)", path)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("local image %s is not a regular file", path)
	}
	return path, nil
}

func (e Experiment) crossCheck(src Source, values map[string]string) error {
	if len(e.Profiles) == 0 {
		return fmt.Errorf("%s:%s: no profiles to run", Namespace, KeyProfiles)
	}
	if err := e.checkNames(src); err != nil {
		return err
	}
	// The network's gateway and the node addresses must fit in the subnet.
	if hosts := HostCapacity(e.NetworkCIDR); e.NodeCount() > hosts {
		return fmt.Errorf("%s:%s: %s holds %d node addresses but the stack needs %d%s",
			Namespace, KeyNetworkCIDR, e.NetworkCIDR, hosts, e.NodeCount(), e.searchNote())
	}
	if _, both := values[KeyMemoryMiB]; both && len(e.MemorySizesMiB) > 0 {
		return fmt.Errorf("%s:%s: set either it or %s, not both", Namespace, KeyMemorySizesMiB, KeyMemoryMiB)
	}
	if err := e.checkSearch(values); err != nil {
		return err
	}
	for p := range e.Preinstalled {
		if !e.measuresProfile(p) {
			return fmt.Errorf("%s:%s: profile %q is not among the stack's profiles", Namespace, KeyPreinstalled, p)
		}
	}
	if err := e.checkPreinstalledOptions(src); err != nil {
		return err
	}
	for p := range e.Artifacts {
		if !e.measuresProfile(p) {
			return fmt.Errorf("%s:%s: profile %q is not among the stack's profiles", Namespace, KeyArtifacts, p)
		}
		if e.Preinstalled[p] {
			return fmt.Errorf("%s:%s: profile %q is preinstalled: it installs nothing", Namespace, KeyArtifacts, p)
		}
	}
	if e.SettleToleranceMiB > 0 && e.SettleMax < e.SettleWindow {
		return fmt.Errorf("%s:%s: %s is shorter than %s (%s): the rule could never be met",
			Namespace, KeySettleMax, e.SettleMax, KeySettleWindow, e.SettleWindow)
	}
	return nil
}

// Sizes are the VM memory sizes of the experiment, in MiB: a search's
// whole grid, of which a run creates only the sizes it tries.
func (e Experiment) Sizes() []int {
	if e.Search != nil {
		return e.Search.Grid()
	}
	if len(e.MemorySizesMiB) > 0 {
		return e.MemorySizesMiB
	}
	return []int{e.MemoryMiB}
}

// NodeCount is how many machines the experiment creates: every profile at
// every size, repeated.
func (e Experiment) NodeCount() int { return len(e.Profiles) * len(e.Sizes()) * e.Repeats }

// FirstHostOffset is where node addresses start in the subnet; below it sit
// the network address and the gateway, with room for later additions.
const FirstHostOffset = 10

// HostCapacity is how many node addresses a subnet offers.
func HostCapacity(p netip.Prefix) int {
	size := 1 << (32 - p.Bits())
	n := size - FirstHostOffset - 1 // minus the broadcast address
	if n < 0 {
		return 0
	}
	return n
}

// section checks the shape of a backend's section: a map of its keys, as
// Pulumi hands over a YAML map (JSON). The backend checks the keys.
func section(raw string) error {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return fmt.Errorf("want a map of the backend's keys (e.g. uri: qemu:///system), not %q", raw)
	}
	return nil
}

func suggest(key string, src Source) string {
	best, bestDist := "", 4
	for _, k := range src.KnownKeys() {
		if d := distance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return " (known keys: " + strings.Join(src.KnownKeys(), ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// distance is the Levenshtein distance, for "did you mean" hints.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Version is the version a profile runs at: the stack's override, or the
// profile's default.
func (e Experiment) Version(profile, defaultVersion string) string {
	if v, ok := e.Versions[profile]; ok {
		return v
	}
	return defaultVersion
}
