package libvirt

import (
	"strings"
	"testing"
)

// footprint:libvirt.uri takes what a run works with end to end, and
// refuses in one line naming the key the transports whose guests the
// collector cannot reach and every parameter that picks a program to run.
func TestURIs(t *testing.T) {
	for _, c := range []struct {
		uri  string
		hint string // "" to accept
	}{
		{"qemu:///system", ""},
		{"qemu:///session", ""},
		{"qemu+ssh://lab/system", ""},
		{"qemu+ssh://root@10.0.0.2:2222/system", ""},
		{"qemu+ssh://ops@[fd00::2]/system", ""},
		{"qemu+ssh://ops@lab/system?keyfile=/k&known_hosts=/kh&no_tty=1", ""},
		{"qemu+ssh://lab/system?knownhosts=/kh&no_verify=0", ""},

		{"qemu+ext:///system?command=/bin/false", `transport "qemu+ext" is refused`},
		{"qemu+tcp://lab/system", `transport "qemu+tcp" is refused`},
		{"qemu+tls://lab/system", `transport "qemu+tls" is refused`},
		{"qemu+libssh2://lab/system", `transport "qemu+libssh2" is refused`},
		{"qemu+libssh://lab/system", `transport "qemu+libssh" is refused`},
		{"qemu+unix:///system?socket=/tmp/s", `transport "qemu+unix" is refused`},
		{"xen:///system", `transport "xen" is refused`},
		{"qemu://lab/system", "names a host"},
		{"qemu:///system?command=/bin/false", "takes no parameters"},
		{"qemu:///system?socket=/tmp/s", "takes no parameters"},
		{"qemu:///", "must end in /system or /session"},
		{"qemu:system", "not a libvirt URI"},
		{"", "not a libvirt URI"},
		{"qemu+ssh://lab/system?command=/bin/false", `parameter "command" is refused`},
		{"qemu+ssh://lab/system?netcat=/tmp/evil", `parameter "netcat" is refused`},
		{"qemu+ssh://lab/system?socket=/tmp/s", `parameter "socket" is refused`},
		{"qemu+ssh://lab/system?proxy=native", `parameter "proxy" is refused`},
		{"qemu+ssh://lab/system?mode=legacy", `parameter "mode" is refused`},
		{"qemu+ssh://lab/system?keyfile=/k;command=/bin/false", "cannot be read"},
		{"qemu+ssh://lab/system?no_verify=1", "no_verify=1 is not supported"},
		{"qemu+ssh://-oProxyCommand=x/system", "not a host name"},
		{"qemu+ssh://-oProxyCommand@lab/system", "not a user name"},
		{"qemu+ssh:///system", "not a host name"},
		{"qemu+ssh://lab/session", "must end in /system"},
	} {
		_, err := New("p", `{"uri":"`+c.uri+`"}`)
		switch {
		case c.hint == "" && err != nil:
			t.Errorf("%s: %v", c.uri, err)
		case c.hint == "":
		case err == nil:
			t.Errorf("%s: accepted", c.uri)
		case !strings.HasPrefix(err.Error(), "footprint:libvirt.uri: ") || !strings.Contains(err.Error(), c.hint) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: %q, want one line naming the key and saying %q", c.uri, err, c.hint)
		}
	}
	// The same for every host of a fleet.
	if _, err := Open("p", `{"hosts":[{"uri":"qemu:///system"},{"uri":"qemu+ext:///system?command=/bin/false"}]}`); err == nil ||
		!strings.HasPrefix(err.Error(), "footprint:libvirt.hosts[1].uri: ") {
		t.Errorf("a fleet's host: %v", err)
	}
}
