package runner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/guest"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/internal/redact"
)

// BackendText says, for `footprint validate`, which backend the prepared
// stack runs on with its settings, and the image a local backend boots.
func BackendText(p *infra.Prepared) string {
	d := p.Backend.Describe()
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + d[k]
	}
	w := fmt.Sprintf("backend %s (%s)", p.Backend.Name(), strings.Join(keys, ", "))
	if p.LocalImage() {
		w += ", image " + redact.URL(p.Experiment.Image) // a signed or password URL is never printed
	}
	return w
}

// Render is `footprint render`: the user-data one node of the stack would
// get, exactly, with stand-ins for the run's secrets masked as real ones
// would be, for review; and which node it is.
func Render(o Options, node string) (about, userData string, err error) {
	p, err := Validate(o)
	if err != nil {
		return "", "", err
	}
	var only []string
	if node != "" {
		only = []string{node}
	}
	specs, err := p.Select(only)
	if err != nil {
		return "", "", fmt.Errorf("--node %s: %w", node, err)
	}
	secrets, err := config.NewSecrets("stand-in")
	if err != nil {
		return "", "", err
	}
	rendered, err := infra.Render(p.Experiment, specs[:1], secrets)
	if err != nil {
		return "", "", err
	}
	s := rendered[0]
	about = fmt.Sprintf("user-data of node %s (machine %s, address %s)", s.Node, s.Name, s.Address)
	return about, mask(secrets, s.CloudInit.UserData), nil
}

// mask hides in text every secret a guest is given: the password, and each
// line of the host key's body, wherever YAML indented it.
func mask(s config.Secrets, text string) string {
	text = strings.ReplaceAll(text, s.WorkloadPassword, guest.MaskedSecret)
	for _, line := range strings.Split(s.SSHHostKey, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "-----") {
			text = strings.ReplaceAll(text, line, guest.MaskedSecret)
		}
	}
	return text
}
