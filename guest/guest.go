// Package guest renders what a node is given at first boot: cloud-init
// user-data that installs the measuring agent and the profile's hooks,
// meta-data, and network-config.
package guest

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/footprint-dev/footprint/profiles"
)

//go:embed agent.sh
var agentScript string

//go:embed footprint-agent.service
var agentUnit string

// AgentPort is where the agent serves its result, on the node's private
// address only.
const AgentPort = 9779

// ResultPath is the agent's result document under its HTTP root.
const ResultPath = "/result.json"

// CollectorUser is the account the SSH collector logs in as: no password,
// no shell, no sudo; it only forwards a channel to the agent's port, so a
// collection opens no login session in the guest.
const CollectorUser = "footprint"

// Node is what the guest needs to know about itself.
type Node struct {
	Name       string // also the hostname
	InstanceID string // unique per stack and node
	Profile    profiles.Profile
	Address    string // the fixed private address the agent listens on
	MAC        string
	Agent      AgentSettings
	// SSHAuthorizedKey, when set, lets the run's key holder log in: as the
	// image's default user, and as CollectorUser.
	SSHAuthorizedKey string
	// SSHHostKey, when set, is the host key the guest's SSH server presents,
	// so that the collector can pin it instead of trusting a first use.
	SSHHostKey HostKey
}

// HostKey is an ed25519 SSH host key pair: the private key in OpenSSH
// format, the public one in authorized_keys format.
type HostKey struct {
	Private string
	Public  string
}

// AgentSettings are the measuring parameters; durations in whole seconds.
type AgentSettings struct {
	SettleSeconds int
	// SettleToleranceKiB > 0 turns the settle rule on: after the fixed
	// settle, wait until used stays within it over SettleWindowSeconds, for
	// at most SettleMaxSeconds.
	SettleToleranceKiB  int
	SettleWindowSeconds int
	SettleMaxSeconds    int
	Samples             int
	IntervalSeconds     int
	Version             string // of the system the profile installs
	Preinstalled        bool   // the image already has the system: skip install
	WorkloadImage       string
	InstallTimeout      int
	ReadyTimeout        int
	WorkloadTimeout     int
	APIAttempts         int
	APITimeout          int
	// WorkloadPassword goes to a root-only file, never to the settings file,
	// where the hooks read it as MYSQL_PASSWORD (SecretEnv).
	WorkloadPassword string
	// ArtifactsLabel, when set, is the label of a read-only disk with the
	// profile's offline install: the agent mounts it and runs installOffline.
	ArtifactsLabel string
	// SoakSeconds > 0 is the soak after the last measured phase: used
	// memory read at a steady interval for that long (phase soak).
	SoakSeconds int
}

// MaskedSecret replaces secrets in what footprint prints for review.
const MaskedSecret = "********"

var hostnamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Rendered is one node's cloud-init disk content.
type Rendered struct {
	UserData      string
	MetaData      string
	NetworkConfig string
}

// Render produces a node's cloud-init documents.
func Render(n Node) (Rendered, error) {
	if !hostnamePattern.MatchString(n.Name) {
		return Rendered{}, fmt.Errorf("node name %q is not a valid hostname", n.Name)
	}
	user, err := userData(n)
	if err != nil {
		return Rendered{}, err
	}
	meta, err := yaml.Marshal(map[string]string{
		"instance-id":    n.InstanceID,
		"local-hostname": n.Name,
	})
	if err != nil {
		return Rendered{}, err
	}
	return Rendered{UserData: user, MetaData: string(meta), NetworkConfig: networkConfig(n.MAC)}, nil
}

type writeFile struct {
	Path        string `yaml:"path"`
	Permissions string `yaml:"permissions"`
	Owner       string `yaml:"owner,omitempty"`
	Content     string `yaml:"content"`
}

// sshKeys is cloud-init's ssh_keys: given keys replace the generated ones.
type sshKeys struct {
	ED25519Private string `yaml:"ed25519_private"`
	ED25519Public  string `yaml:"ed25519_public"`
}

// collectorUser is cloud-init's entry for CollectorUser.
type collectorUser struct {
	Name              string   `yaml:"name"`
	Gecos             string   `yaml:"gecos"`
	Shell             string   `yaml:"shell"`
	LockPasswd        bool     `yaml:"lock_passwd"`
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys"`
}

type cloudConfig struct {
	Hostname          string      `yaml:"hostname"`
	PreserveHostname  bool        `yaml:"preserve_hostname"`
	PackageUpdate     bool        `yaml:"package_update"`
	PackageUpgrade    bool        `yaml:"package_upgrade"`
	SSHAuthorizedKeys []string    `yaml:"ssh_authorized_keys,omitempty"`
	Users             []any       `yaml:"users,omitempty"`
	SSHKeys           *sshKeys    `yaml:"ssh_keys,omitempty"`
	WriteFiles        []writeFile `yaml:"write_files"`
	Runcmd            [][]string  `yaml:"runcmd"`
}

func userData(n Node) (string, error) {
	cc := cloudConfig{
		Hostname: n.Name,
		// Nothing the measurement does not need: no package index refresh.
		PackageUpdate:  false,
		PackageUpgrade: false,
		WriteFiles: []writeFile{
			{Path: "/etc/footprint/agent.env", Permissions: "0644", Content: AgentEnv(n)},
			{Path: "/etc/footprint/secret.env", Permissions: "0600", Content: SecretEnv(n)},
			{Path: "/etc/footprint/profile.sh", Permissions: "0644", Content: Shipped(ProfileScript(n.Profile))},
			{Path: "/usr/local/sbin/footprint-agent", Permissions: "0755", Content: Shipped(agentScript)},
			{Path: "/etc/systemd/system/footprint-agent.service", Permissions: "0644", Content: agentUnit},
		},
		Runcmd: [][]string{
			{"systemctl", "daemon-reload"},
			{"systemctl", "start", "--no-block", "footprint-agent.service"},
		},
	}
	if n.SSHAuthorizedKey != "" {
		cc.SSHAuthorizedKeys = []string{n.SSHAuthorizedKey}
		// "default" keeps the image's own user, which gets the key above.
		cc.Users = []any{"default", collectorUser{
			Name: CollectorUser, Gecos: "footprint collector", Shell: "/usr/sbin/nologin",
			LockPasswd: true, SSHAuthorizedKeys: []string{n.SSHAuthorizedKey},
		}}
	}
	if n.SSHHostKey.Private != "" {
		// A key file ends in a newline; some OpenSSH versions refuse one without.
		cc.SSHKeys = &sshKeys{ED25519Private: strings.TrimRight(n.SSHHostKey.Private, "\n") + "\n", ED25519Public: n.SSHHostKey.Public}
	}
	body, err := yaml.Marshal(cc)
	if err != nil {
		return "", err
	}
	return "#cloud-config\n" + string(body), nil
}

// AgentEnv is the agent's settings file, sourced by its shell.
func AgentEnv(n Node) string {
	a := n.Agent
	preinstalled := "0"
	if a.Preinstalled {
		preinstalled = "1"
	}
	vars := map[string]string{
		"NODE":                 n.Name,
		"PROFILE":              n.Profile.Name,
		"ADDRESS":              n.Address,
		"PORT":                 fmt.Sprint(AgentPort),
		"SETTLE":               fmt.Sprint(a.SettleSeconds),
		"SETTLE_TOLERANCE_KIB": fmt.Sprint(a.SettleToleranceKiB),
		"SETTLE_WINDOW":        fmt.Sprint(a.SettleWindowSeconds),
		"SETTLE_MAX":           fmt.Sprint(a.SettleMaxSeconds),
		"SAMPLES":              fmt.Sprint(a.Samples),
		"INTERVAL":             fmt.Sprint(a.IntervalSeconds),
		"VERSION":              a.Version,
		"PREINSTALLED":         preinstalled,
		"WORKLOAD_IMAGE":       a.WorkloadImage,
		"INSTALL_TIMEOUT":      fmt.Sprint(a.InstallTimeout),
		"READY_TIMEOUT":        fmt.Sprint(a.ReadyTimeout),
		"WORKLOAD_TIMEOUT":     fmt.Sprint(a.WorkloadTimeout),
		"API_ATTEMPTS":         fmt.Sprint(a.APIAttempts),
		"API_TIMEOUT":          fmt.Sprint(a.APITimeout),
		"API_CLIENT":           n.Profile.APIClient,
		"UNITS":                strings.Join(n.Profile.Units, " "),
		"ARTIFACTS_LABEL":      a.ArtifactsLabel,
		"SOAK":                 fmt.Sprint(a.SoakSeconds),
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# footprint agent settings (rendered by footprint; sourced by /usr/local/sbin/footprint-agent)\n")
	b.WriteString("# shellcheck disable=SC2034 # every variable is read by the agent that sources this\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, shellQuote(vars[k]))
	}
	return b.String()
}

// SecretEnv is the root-only file with the workload's password.
func SecretEnv(n Node) string {
	return "# footprint secrets (root only; sourced by the agent)\n# shellcheck disable=SC2034\n" +
		"MYSQL_PASSWORD=" + shellQuote(n.Agent.WorkloadPassword) + "\n"
}

// ProfileScript turns a profile's hooks into shell functions fp_<hook>, the
// form the agent looks for.
func ProfileScript(p profiles.Profile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# footprint profile %s: hooks run by the agent, each in its own shell\n", p.Name)
	b.WriteString(p.Library())
	for _, h := range profiles.HookNames {
		body, ok := p.Hooks[h]
		if !ok || strings.TrimSpace(body) == "" {
			continue
		}
		if h == profiles.HookConfigure && len(p.Chosen) == 0 {
			continue // a profile's defaults render as they always did
		}
		fmt.Fprintf(&b, "fp_%s() {\n%s\n}\n", h, strings.TrimRight(body, "\n"))
	}
	return b.String()
}

func networkConfig(mac string) string {
	// Matching on the MAC, not on a name pattern: cloud-init's renderers
	// disagree on name globs, a MAC is exact.
	return fmt.Sprintf(`version: 2
ethernets:
  primary:
    match:
      macaddress: %q
    dhcp4: true
`, mac)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// AgentScript is the agent as shipped, for tests and review.
func AgentScript() string { return agentScript }
