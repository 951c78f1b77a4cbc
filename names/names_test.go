package names

import "testing"

func TestNodeNamesRoundTrip(t *testing.T) {
	for _, c := range []struct {
		profile          string
		size, repeat     int
		sweep, repeated  bool
		want             string
		wantSize, wantRe int
	}{
		{"bare", 1024, 1, false, false, "bare", 0, 0},
		{"k3s", 2048, 3, true, false, "k3s-2048m", 2048, 0},
		{"k3s", 2048, 3, false, true, "k3s-r3", 0, 3},
		{"microk8s-noha", 512, 2, true, true, "microk8s-noha-512m-r2", 512, 2},
		{"microk8s-noha", 512, 12, false, true, "microk8s-noha-r12", 0, 12},
	} {
		got := Node(c.profile, c.size, c.repeat, c.sweep, c.repeated)
		if got != c.want {
			t.Errorf("Node(%s, %d, %d, %v, %v) = %s, want %s", c.profile, c.size, c.repeat, c.sweep, c.repeated, got, c.want)
		}
		if cell := ParseNode(got); cell != (Cell{c.profile, c.wantSize, c.wantRe}) {
			t.Errorf("ParseNode(%s) = %+v", got, cell)
		}
	}
	// Names that only look like a size or a repeat stay whole.
	for _, n := range []string{"k0s", "bare-rx", "docker-m", "a-r", "x-12mm"} {
		if c := ParseNode(n); c.Profile != n || c.SizeMiB != 0 || c.Repeat != 0 {
			t.Errorf("ParseNode(%s) = %+v", n, c)
		}
	}
}

func TestPrefixAndOwnership(t *testing.T) {
	p := Prefix(Project, "ci")
	if p != "footprint-ci" || Machine(p, "bare") != "footprint-ci-bare" || !Owned(Machine(p, "bare")) || Owned("lab") || Owned("footprintish") {
		t.Errorf("prefix %s, machine %s", p, Machine(p, "bare"))
	}
}

// Every name Node makes passes CheckNode; a name that could leave a
// folder, or that Node never makes, does not.
func TestCheckNode(t *testing.T) {
	for _, ok := range []string{"bare", "k3s-2048m-r3", "microk8s-noha-r12", "kubeadm-slowvm-1024m"} {
		if err := CheckNode(ok); err != nil {
			t.Errorf("CheckNode(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "../x", "..", "a/b", "/etc/passwd", "bare/../../x", "Bare", "bare-", "-bare", "a--b", "a b", "a\nb", "k3s.svg", "1bare"} {
		if err := CheckNode(bad); err == nil {
			t.Errorf("CheckNode(%q) passed", bad)
		}
	}
}
