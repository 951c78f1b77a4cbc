package libvirt

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// sshParams are the qemu+ssh query parameters footprint accepts: files and
// switches of the SSH connection that also tell the collector's own SSH
// client how to reach the host (tunnel.go). Every other one is refused:
// command= (ext), netcat=, socket=, proxy= and mode= choose a program a
// client runs, here or on the host, and the rest nothing here needs.
var sshParams = []string{"keyfile", "known_hosts", "knownhosts", "no_tty", "no_verify"}

// hostName and userName keep a host or user from reading as one of ssh's
// options ("-oProxyCommand=…") on virsh's command line.
var (
	hostName = regexp.MustCompile(`^[A-Za-z0-9_:][A-Za-z0-9._:%-]*$`)
	userName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
)

const wantURI = "want qemu:///system, qemu:///session, or qemu+ssh://[user@]host[:port]/system"

// checkURI accepts the libvirt URIs a run works with end to end: the local
// system or session daemon, whose guests the collector reaches directly,
// and a remote system daemon over SSH, whose guests it reaches through the
// same SSH server. Any other transport (tcp, tls, libssh, libssh2, unix,
// ext) connects libvirt but leaves the guests out of reach, or runs a
// program of the URI's choosing.
func checkURI(v string) error {
	u, err := url.Parse(v)
	if err != nil || v == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not a libvirt URI (%s)", v, wantURI)
	}
	switch u.Scheme {
	case "qemu":
		return checkLocalURI(v, u)
	case "qemu+ssh":
		return checkSSHURI(v, u)
	}
	return fmt.Errorf("%q: transport %q is refused: footprint reaches a remote host's guests only through its SSH server (%s)", v, u.Scheme, wantURI)
}

func checkLocalURI(v string, u *url.URL) error {
	switch {
	case u.Host != "" || u.User != nil:
		// qemu://host/… is libvirt's TLS transport.
		return fmt.Errorf("%q names a host: a remote host is reached as qemu+ssh://[user@]host/system", v)
	case u.Path != "/system" && u.Path != "/session":
		return fmt.Errorf("%q must end in /system or /session", v)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q: a local URI takes no parameters (%s)", v, wantURI)
	}
	return nil
}

func checkSSHURI(v string, u *url.URL) error {
	switch {
	case !hostName.MatchString(u.Hostname()):
		return fmt.Errorf("%q: host %q is not a host name or address", v, u.Hostname())
	case u.User != nil && !userName.MatchString(u.User.Username()):
		return fmt.Errorf("%q: user %q is not a user name", v, u.User.Username())
	case u.Path != "/system":
		return fmt.Errorf("%q must end in /system (a remote session daemon is not supported)", v)
	case u.Fragment != "":
		return fmt.Errorf("%q: a fragment is not supported", v)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("%q: its parameters cannot be read: %w", v, err)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(sshParams, k) {
			return fmt.Errorf("%q: parameter %q is refused (accepted: %s)", v, k, strings.Join(sshParams, ", "))
		}
	}
	_, err = parseRemoteSSH(v)
	return err
}
