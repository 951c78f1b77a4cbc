package libvirt

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/infra/machine"
)

// fakeDomains puts on PATH a virsh that keeps domains in state, each a file
// holding its description, and answers as libvirt does: `desc` of a domain
// that is not there fails "Domain not found", of one named in unreadable
// with another error (a libvirtd that cannot read its definition), and
// destroy / undefine remove it. The host has no pool and no network.
func fakeDomains(t *testing.T, domains map[string]string, unreadable ...string) string {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	for name, desc := range domains {
		must(t, os.WriteFile(filepath.Join(state, name), []byte(desc+"\n"), 0o644))
	}
	script := `#!/bin/sh
state=` + state + `
shift 3 # -q -c URI
cmd=$1; shift
missing() { printf "error: failed to get domain '%s'\nerror: Domain not found: no domain with matching name '%s'\n" "$1" "$1" >&2; exit 1; }
case $cmd in
list) ls "$state" ;;
pool-list|net-list) ;;
desc)
	case " ` + strings.Join(unreadable, " ") + ` " in *" $1 "*) echo "error: internal error: cannot parse the definition of '$1'" >&2; exit 1 ;; esac
	cat "$state/$1" 2>/dev/null || missing "$1" ;;
destroy) [ -e "$state/$1" ] || missing "$1" ;;
undefine) rm "$state/$1" 2>/dev/null || missing "$1" ;;
*) echo "error: unknown command '$cmd'" >&2; exit 1 ;;
esac
`
	must(t, os.WriteFile(filepath.Join(bin, "virsh"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return state
}

func left(t *testing.T, state string) []string {
	entries, err := os.ReadDir(state)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Only domains whose description names the stack are its: one whose
// description cannot be read is left, and the sweep says so and fails,
// so that whoever relies on it (a resume's record of a lost host) knows
// something may remain. A domain gone meanwhile is nobody's concern.
func TestSweepLeavesADomainItCannotTellIsTheStacks(t *testing.T) {
	p := "footprint-ci"
	state := fakeDomains(t, map[string]string{
		p + "-bare":         DomainDescription(p),
		p + "-docker-bare":  DomainDescription(p + "-docker"), // stack ci-docker's
		p + "-k3s":          DomainDescription(p),
		p + "-kubeadm":      DomainDescription(p),
		"footprint-other-x": DomainDescription("footprint-other"),
	}, p+"-k3s")
	b, _ := New(p, `{"uri":"qemu:///session"}`)
	var said []string
	removed, err := b.Sweep(context.Background(), p, func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) })
	if !slices.Equal(removed, []string{"domain " + p + "-bare", "domain " + p + "-kubeadm"}) {
		t.Errorf("removed %v", removed)
	}
	if want := []string{p + "-docker-bare", p + "-k3s", "footprint-other-x"}; !slices.Equal(left(t, state), want) {
		t.Errorf("left %v, want %v", left(t, state), want)
	}
	if err == nil || !strings.Contains(err.Error(), "left domain "+p+"-k3s") || !strings.Contains(err.Error(), "cannot parse the definition") {
		t.Errorf("err = %v, want the unreadable domain named", err)
	}
	if !strings.Contains(strings.Join(said, "\n"), "left domain "+p+"-k3s") {
		t.Errorf("said %v", said)
	}
}

// A domain the sweep removes goes with the logs libvirt kept of it on this
// machine: its serial console and QEMU's log. Another stack's stay.
func TestSweepRemovesTheLogsOfTheDomainsItRemoves(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	p := "footprint-ci"
	fakeDomains(t, map[string]string{p + "-bare": DomainDescription(p), p + "-docker-bare": DomainDescription(p + "-docker")})
	logs := filepath.Join(cache, "libvirt", "qemu", "log")
	must(t, os.MkdirAll(logs, 0o755))
	for _, d := range []string{p + "-bare", p + "-docker-bare"} {
		must(t, os.WriteFile(filepath.Join(logs, d+"-console.log"), []byte("boot\n"), 0o600))
		must(t, os.WriteFile(filepath.Join(logs, d+".log"), []byte("qemu-system-x86_64 -name guest="+d+"\n"), 0o600))
	}
	b, _ := New(p, `{"uri":"qemu:///session"}`)
	if _, err := b.Sweep(context.Background(), p, func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(logs)
	var have []string
	for _, e := range entries {
		have = append(have, e.Name())
	}
	if want := []string{p + "-docker-bare-console.log", p + "-docker-bare.log"}; !slices.Equal(have, want) {
		t.Errorf("logs left %v, want only the other stack's %v", have, want)
	}
}

// A resume removes what a run left on the hosts it lost, by their URIs in
// its record, whatever the stack lists now: the same hosts, others, or one
// host without footprint:libvirt.hosts. A URI footprint refuses is not
// reached, and the sweep fails so that the record keeps the host.
func TestLostHostsAreSweptWhereverTheStackIsNow(t *testing.T) {
	p := "footprint-ci"
	lost := "qemu+ssh://lab2/system"
	for name, section := range map[string]string{
		"listed":     `{"hosts":[{"uri":"qemu:///system"},{"uri":"qemu+ssh://lab2/system"}]}`,
		"not listed": `{"hosts":[{"uri":"qemu:///system"},{"uri":"qemu+ssh://lab3/system"}]}`,
		"one host":   `{"uri":"qemu:///system"}`,
	} {
		t.Run(name, func(t *testing.T) {
			state := fakeDomains(t, map[string]string{p + "-bare-h1": DomainDescription(p)})
			calls := filepath.Join(t.TempDir(), "calls")
			wrapURIs(t, calls)
			b, err := Open(p, section)
			if err != nil {
				t.Fatal(err)
			}
			hl, ok := b.(machine.HostLoss)
			if !ok {
				t.Fatalf("%T cannot sweep a lost host", b)
			}
			removed, err := hl.Only([]string{lost}).Sweep(context.Background(), p, func(string, ...any) {})
			if err != nil || !slices.Equal(removed, []string{"domain " + p + "-bare-h1"}) || len(left(t, state)) != 0 {
				t.Errorf("removed %v (%v), left %v", removed, err, left(t, state))
			}
			data, _ := os.ReadFile(calls)
			for _, uri := range strings.Fields(string(data)) {
				if uri != lost {
					t.Errorf("virsh asked %s, want only the lost host", uri)
				}
			}
		})
	}
	b, _ := Open(p, `{"uri":"qemu:///system"}`)
	_, err := b.(machine.HostLoss).Only([]string{"qemu+ext:///system?command=/bin/true"}).Sweep(context.Background(), p, func(string, ...any) {})
	if err == nil || !strings.Contains(err.Error(), "not reached") {
		t.Errorf("a refused URI: err = %v", err)
	}
}

// wrapURIs puts in front of the fake virsh one that notes the URI of each
// call in calls.
func wrapURIs(t *testing.T, calls string) {
	t.Helper()
	inner, err := exec.LookPath("virsh")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	must(t, os.WriteFile(filepath.Join(bin, "virsh"), []byte("#!/bin/sh\necho \"$3\" >>"+calls+"\nexec "+inner+" \"$@\"\n"), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}
