package libvirt

import (
	"errors"
	"os/exec"
	"testing"
)

// What virsh says of an object that does not exist is told once, as
// errGone; every failure keeps virsh's exit status in its chain.
func TestVirshErrorsSayWhetherTheObjectIsGone(t *testing.T) {
	exit := &exec.ExitError{}
	for said, gone := range map[string]bool{
		"error: failed to get domain 'footprint-t-bare' | error: Domain not found: no domain with matching name 'footprint-t-bare'": true,
		"error: failed to get vol 'x' | error: Storage volume not found: no storage vol with matching path":                         true,
		"error: failed to connect to the hypervisor | error: Failed to connect socket":                                              false,
	} {
		err := error(&virshError{args: "undefine footprint-t-bare", said: said, exit: exit})
		if errors.Is(err, errGone) != gone {
			t.Errorf("%q: gone %v, want %v", said, !gone, gone)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || err.Error() != "virsh undefine footprint-t-bare: "+said {
			t.Errorf("%q: chain or text lost: %v", said, err)
		}
	}
}
